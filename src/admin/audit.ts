// Every operator action, through the API or the console alike, into the audit log (readmodel/audit.ts):
// one middleware over both, which names the action from the route, the actor from the request's
// authentication (`token`, the Cloudflare Access e-mail, `anonymous` for a failed login) and the result
// from the answer (`ok`, or the refusal's error code). A handler adds details (a bulk redelivery's
// filters and count) with c.set("auditDetails", …). Failed logins are folded into one entry per source
// address and minute. Nothing the request carried as a credential is ever written.

import type { Context, MiddlewareHandler } from "hono";
import type { AppEnv } from "../env";
import { clock } from "../lib/clock";
import { log } from "../lib/log";
import { errorCodeOf } from "../lib/http-errors";
import { errorText } from "../lib/result";
import { MINUTE_MS } from "../lib/time";
import { recordAudit } from "../readmodel/audit";

/** The routes that are operator actions (paths under /admin or /console), and what each is. */
const ACTIONS: ReadonlyArray<{
  readonly path: RegExp;
  readonly action: string;
  readonly target: (m: string[]) => string | null;
}> = [
  {
    path: /^\/(?:admin|console)\/destinations\/([^/]+)\/pause$/,
    action: "destination.pause",
    target: (m) => m[1] ?? null,
  },
  {
    path: /^\/(?:admin|console)\/destinations\/([^/]+)\/resume$/,
    action: "destination.resume",
    target: (m) => m[1] ?? null,
  },
  {
    path: /^\/(?:admin|console)\/destinations\/([^/]+)\/test$/,
    action: "destination.test",
    target: (m) => m[1] ?? null,
  },
  {
    path: /^\/(?:admin|console)\/objects\/([^/]+)\/([^/]+)\/([^/]+)\/events\/([^/]+)\/redeliver$/,
    action: "event.redeliver",
    target: (m) => `${m[1]}:${m[2]}:${m[3]} ${m[4]}`,
  },
  {
    path: /^\/(?:admin|console)\/objects\/([^/]+)\/([^/]+)\/([^/]+)\/redeliver-dead$/,
    action: "object.redeliver_dead",
    target: (m) => `${m[1]}:${m[2]}:${m[3]}`,
  },
  { path: /^\/admin\/redeliver$|^\/console\/dead-letters\/redeliver$/, action: "redeliver.bulk", target: () => null },
  { path: /^\/admin\/reconcile$/, action: "reconcile.run", target: () => null },
  { path: /^\/console\/login$/, action: "console.login", target: () => null },
];

function decoded(parts: string[]): string[] {
  return parts.map((p) => {
    try {
      return decodeURIComponent(p);
    } catch {
      return p;
    }
  });
}

/** `ok`, or the answer's error code (a console form's refusal is its status). */
async function resultOf(res: Response): Promise<string> {
  if (res.status < 400) return "ok";
  // A console page's refusal is HTML: named by its status.
  const code = await errorCodeOf(res);
  return code ?? (res.status === 401 ? "unauthorized" : res.status === 403 ? "forbidden" : `http_${res.status}`);
}

/** Records the request's operator action, once it has been answered; `actor` when the request set none. */
export function auditTrail(defaultActor: string): MiddlewareHandler<AppEnv> {
  return async function audited(c, next) {
    await next();
    if (c.req.method !== "POST") return;
    const rule = ACTIONS.find((a) => a.path.test(c.req.path));
    if (rule === undefined) return;
    const m = decoded([...(rule.path.exec(c.req.path) ?? [])]);
    const result = await resultOf(c.res);
    const failedLogin = rule.action === "console.login" && result !== "ok";
    const now = clock.now();
    const source = c.req.header("cf-connecting-ip") ?? "unknown";
    const entry = {
      at: now,
      actor: failedLogin ? "anonymous" : (c.get("actor") ?? defaultActor),
      action: failedLogin ? "console.login_failed" : rule.action,
      target: rule.target(m),
      result,
      details: failedLogin ? { source, count: 1 } : (c.get("auditDetails") ?? null),
    };
    const dedupe = failedLogin ? `console.login_failed:${source}:${Math.floor(now / MINUTE_MS)}` : null;
    await write(c, entry, dedupe);
  };
}

async function write(
  c: Context<AppEnv>,
  entry: Parameters<typeof recordAudit>[1],
  dedupe: string | null,
): Promise<void> {
  try {
    await recordAudit(c.env.READ_MODEL, entry, dedupe);
  } catch (thrown) {
    // The action stands (it was done); its entry is lost, which the log says loudly.
    log("error", "audit entry not written", { action: entry.action, target: entry.target, error: errorText(thrown) });
  }
}
