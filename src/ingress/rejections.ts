// One public answer per rejection reason: a status and a short message. The rich reason (field
// names, canonical message) goes to the logs only.

import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { HTTPException } from "hono/http-exception";
import type { Context } from "hono";
import type { AppEnv } from "../env";
import { log, type LogFields } from "../lib/log";
import type { RejectReason, Rejection } from "../providers/types";
import { errorCodeOf, httpError } from "../lib/http-errors";
import { countBadSignature } from "../alerts/report";
import { countRejection } from "../alerts/rejected";
import type { MiddlewareHandler } from "hono";
import { SIGNED_KINDS } from "../providers/portone/kinds";

export const PUBLIC_REJECTIONS: Record<RejectReason, { status: ContentfulStatusCode; message: string }> = {
  invalid_json: { status: 400, message: "The body is not valid JSON." },
  not_an_object: { status: 400, message: "The body must be a JSON object." },
  too_deep: { status: 400, message: "The JSON body is nested too deeply." },
  duplicate_field: { status: 400, message: "A signed field appears more than once." },
  case_variant_field: { status: 400, message: "A field differs from a signed field only in letter case." },
  invalid_field_type: { status: 400, message: "A signed field has the wrong JSON type." },
  missing_object_ref: { status: 400, message: "The payload names no payment object." },
  missing_status: { status: 400, message: "The payload has no status." },
  missing_signature: { status: 401, message: "The signature is missing." },
  missing_timestamp: { status: 401, message: "The signed timestamp is missing or malformed." },
  stale_timestamp: {
    status: 401,
    message: "The signed timestamp is outside the allowed tolerance; check the sender's clock.",
  },
  bad_signature: {
    status: 401,
    message: "The signature does not match. Is the secret the one of this environment (sandbox or live)?",
  },
};

/** The route as logs and alerts name it: /webhooks/<provider>/<name>, anything after it (Payment Options'
 *  token in its webhook_url) shown as `…`, so no log line or alert carries the token. */
export function loggedRoute(c: Context<AppEnv>): string {
  const parts = c.req.path.split("/");
  return parts.length > 4 ? [...parts.slice(0, 4), "…"].join("/") : c.req.path;
}

/** Logs a rejection with its rich reason, counts a bad signature, and throws its public error. */
export function refuse(c: Context<AppEnv>, rejection: Rejection, ids: LogFields): never {
  const { reason, detail } = rejection;
  log("warn", "webhook rejected", { route: loggedRoute(c), ...ids, reason, detail });
  if (reason === "bad_signature" || reason === "missing_signature")
    countBadSignature(c.env, (p) => c.executionCtx.waitUntil(p), loggedRoute(c));
  throw rejectionError(reason);
}

function rejectionError(reason: RejectReason): HTTPException {
  const { status, message } = PUBLIC_REJECTIONS[reason];
  return httpError(status, reason, message);
}

/** The route as gateway_webhooks_rejected_total labels it, so labels stay bounded: PortOne's kinds, a
 *  configured source's `/webhooks/<scheme>/<source>` (never a token after it), else `other`. */
export function metricRoute(c: Context<AppEnv>): string {
  const [, , provider = "", name = ""] = c.req.path.split("/");
  if (provider === "portone")
    return SIGNED_KINDS.has(name) || name === "refund" ? `/webhooks/portone/${name}` : "other";
  const sources = c.var.config.sources;
  const source = sources.ok ? sources.value.get(name) : undefined;
  return source?.scheme === provider ? `/webhooks/${provider}/${name}` : "other";
}

/** Counts every 4xx and 503 answered on a webhook route, by route pattern and the answer's error code
 *  (alerts/rejected.ts batches them: no write per request). */
export function countRefusals(): MiddlewareHandler<AppEnv> {
  return async function countRefused(c, next) {
    await next();
    const status = c.res.status;
    if (!((status >= 400 && status < 500) || status === 503)) return;
    const reason = (await errorCodeOf(c.res)) ?? "unknown";
    countRejection(c.env, (p) => c.executionCtx.waitUntil(p), metricRoute(c), reason);
  };
}
