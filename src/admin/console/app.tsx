// The operator console at /console: closed (404) without ADMIN_TOKEN; every page but the login
// form needs a session; every POST needs the session, a same-origin request and the session's CSRF
// token. Pages are plain HTML forms and links: they work without JavaScript.
import { alertStore } from "../../alerts/report";
import { alertsProblem } from "../alerts";
import { AlertsPage } from "./alerts-page";
import { Hono, type Context, type MiddlewareHandler } from "hono";
import { csrf } from "hono/csrf";
import type { Config } from "../../config";
import type { AppEnv } from "../../env";
import { clock } from "../../lib/clock";
import { httpError, notConfigured, onError, readModelProblem } from "../../lib/http-errors";
import { log } from "../../lib/log";
import { deliveryLatency, eventsPerHour, hintsAwaiting } from "../../readmodel/overview";
import { auditTrail } from "../audit";
import { listAudit } from "../../readmodel/audit";
import { AuditPage } from "./audit-page";
import { lastPasses } from "../../reconcile/store";
import { listEvents, statsSince } from "../../readmodel/queries";
import { stubFor } from "../object-stub";
import { destinationViews, sendTestEvent, setPaused } from "../destinations";
import { redeliverMatching } from "../redeliver";
import { auditPage, filterOf, pageArgs } from "../request-filters";
import { DeadLettersPage } from "./dead-letters-page";
import { DestinationsPage } from "./destinations-page";
import { ObjectPage } from "./object-page";
import { EventsPage, LoginPage, OverviewPage } from "./pages";
import { accessIdentity } from "./access";
import { objectHref, Page } from "./layout";
import { csrfMatches, csrfToken, endSession, sessionOf, startSession, tokenMatches, type Session } from "./session";
import { DAY_MS } from "../../lib/time";

const HEADERS: Record<string, string> = {
  "content-security-policy":
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cache-control": "no-store",
};

export const consoleApp = new Hono<AppEnv>();

/** A read-model failure is a page for people (503), not JSON; anything else as everywhere. */
consoleApp.onError((err, c) => {
  const problem = readModelProblem(err);
  if (problem === null) return onError(err, c);
  log("error", "read model failed", { path: c.req.path, error: err.message });
  return c.html(
    <Page title="Read model unavailable">
      <p class="problem">{problem.message}</p>
      <p class="note">
        Objects' own pages (<code>/console/objects/…</code>) and the admin API's object routes still work: they ask each
        object, not the read model.
      </p>
    </Page>,
    503,
  );
});

/** ADMIN_TOKEN, or a 404 as if the console did not exist. */
function adminToken(config: Config, request: Request): string {
  const token = config.adminToken;
  if (token === undefined)
    throw httpError(404, "not_found", `No route for ${request.method} ${new URL(request.url).pathname}.`);
  return token;
}
const tokenOf = (c: Context<AppEnv>): string => adminToken(c.var.config, c.req.raw);

consoleApp.use("*", async (c, next) => {
  adminToken(c.var.config, c.req.raw); // closed unless configured
  await next();
  for (const [name, value] of Object.entries(HEADERS)) c.header(name, value);
});
// Cross-site form POSTs are refused by Origin / Sec-Fetch-Site, the login form's included.
consoleApp.use("*", csrf());

// Every operator action of the console is in the audit log (a request with no session acts as anonymous).
consoleApp.use("*", auditTrail("anonymous"));

/** With Cloudflare Access configured, Access logs operators in: the token form is not offered. */
consoleApp.use("/login", async (c, next) => {
  const access = c.var.config.access;
  if (access.ok && access.value !== null) return c.redirect("/console", 303);
  await next();
});

consoleApp.get("/login", (c) => c.html(<LoginPage />));

consoleApp.post("/login", async (c) => {
  const form = await c.req.parseBody();
  const token = tokenOf(c);
  if (typeof form.token !== "string" || !(await tokenMatches(form.token, token))) {
    log("warn", "console login refused", { path: c.req.path });
    return c.html(<LoginPage problem="That is not the admin token." />, 401);
  }
  await startSession(c, token);
  c.set("actor", "token");
  return c.redirect("/console", 303);
});

/** The session: Cloudflare Access's vouched identity when configured, else the signed cookie. */
async function sessionFor(c: Context<AppEnv>, token: string): Promise<Session | Response> {
  const access = c.var.config.access;
  if (!access.ok) {
    throw notConfigured("CF_ACCESS_TEAM_DOMAIN and CF_ACCESS_AUD go together; the console is closed.", {
      message: "Cloudflare Access is misconfigured; the console is closed",
      fields: { ...access.error },
    });
  }
  if (access.value !== null) {
    const who = await accessIdentity(c, access.value);
    if (who === null) return c.text("Forbidden: Cloudflare Access did not vouch for this request.", 403);
    return { nonce: `access:${who}`, expiresAt: Number.POSITIVE_INFINITY };
  }
  return (await sessionOf(c, token)) ?? c.redirect("/console/login", 303);
}

const requireSession: MiddlewareHandler<AppEnv> = async (c, next) => {
  const token = tokenOf(c);
  const session = await sessionFor(c, token);
  if (session instanceof Response) return session;
  if (c.req.method === "POST") {
    const form = await c.req.parseBody();
    if (!(await csrfMatches(session, token, form.csrf))) {
      log("warn", "console form refused: CSRF token missing or wrong", { path: c.req.path });
      return c.text("Forbidden: this form is not from your session.", 403);
    }
  }
  c.set("csrf", await csrfToken(session, token));
  c.set("actor", session.nonce.startsWith("access:") ? session.nonce.slice("access:".length) : "token");
  await next();
};
consoleApp.use("*", requireSession);

consoleApp.post("/logout", (c) => {
  endSession(c);
  return c.redirect("/console/login", 303);
});

consoleApp.get("/", async (c) => {
  const db = c.env.READ_MODEL;
  const now = clock.now();
  const [day, week, latency, hours, passes, alerts, hints] = await Promise.all([
    statsSince(db, now - DAY_MS),
    statsSince(db, now - 7 * DAY_MS),
    deliveryLatency(db, now - DAY_MS),
    eventsPerHour(db, now, 24),
    lastPasses(db),
    alertStore(c.env).list("open"),
    hintsAwaiting(db, 20),
  ]);
  return c.html(
    <OverviewPage
      csrf={c.var.csrf}
      day={day}
      week={week}
      latency={latency}
      hours={hours}
      passes={passes}
      alerts={alerts}
      alertsProblem={alertsProblem(c.var.config)}
      hints={hints}
    />,
  );
});

consoleApp.get("/audit", async (c) => {
  const { limit, after } = auditPage(undefined, c.req.query("cursor"));
  const page = await listAudit(c.env.READ_MODEL, 0, limit, after);
  return c.html(<AuditPage csrf={c.var.csrf} entries={page.entries} next={page.next_cursor} />);
});

consoleApp.get("/alerts", async (c) => {
  const store = alertStore(c.env);
  const [open, resolved] = await Promise.all([store.list("open"), store.list("resolved", 50)]);
  return c.html(<AlertsPage csrf={c.var.csrf} open={open} resolved={resolved} problem={alertsProblem(c.var.config)} />);
});

consoleApp.get("/events", async (c) => {
  const query = Object.fromEntries(Object.entries(c.req.query()).filter(([, v]) => v !== ""));
  const { after } = pageArgs(undefined, query.cursor);
  const page = await listEvents(c.env.READ_MODEL, filterOf(query), 50, after);
  const { cursor: _cursor, ...rest } = query;
  return c.html(<EventsPage csrf={c.var.csrf} query={rest} page={page} />);
});

const objectPath = "/objects/:provider/:kind/:ref";
const flashes: Record<string, string> = {
  redelivered: "Re-queued: it will be sent again with its original webhook-id.",
  none: "Nothing to re-queue.",
  test: "Test event queued: it is sent to this destination only, signed like every event; its attempt shows below.",
};

consoleApp.get(objectPath, async (c) => {
  const { provider, kind, ref } = c.req.param();
  const ledger = stubFor(c, provider, kind, ref);
  const report = await ledger.inspect();
  if (report.events.length === 0 && report.confirmations.length === 0)
    throw httpError(404, "not_found", "No event or hint was ever recorded for this object.");
  const flash = flashes[c.req.query("done") ?? ""];
  return c.html(<ObjectPage csrf={c.var.csrf} objectName={ledger.objectName} report={report} flash={flash} />);
});

consoleApp.post(`${objectPath}/events/:eventId/redeliver`, async (c) => {
  const { provider, kind, ref, eventId } = c.req.param();
  const requeued = await stubFor(c, provider, kind, ref).redeliver({ eventIds: [eventId] });
  log("info", "console redelivery", { object_ref: ref, kind, event_id: eventId, requeued: requeued.length });
  return c.redirect(
    `${new URL(c.req.url).pathname.replace(/\/events\/[^/]+\/redeliver$/, "")}?done=${requeued.length ? "redelivered" : "none"}`,
    303,
  );
});

consoleApp.post(`${objectPath}/redeliver-dead`, async (c) => {
  const { provider, kind, ref } = c.req.param();
  const requeued = await stubFor(c, provider, kind, ref).redeliver({ state: "dead" });
  log("info", "console redelivery of dead letters", { object_ref: ref, kind, count: requeued.length });
  return c.redirect(
    `${new URL(c.req.url).pathname.replace(/\/redeliver-dead$/, "")}?done=${requeued.length ? "redelivered" : "none"}`,
    303,
  );
});

consoleApp.get("/dead-letters", async (c) => {
  const page = await listEvents(c.env.READ_MODEL, { delivery: "dead" }, 200, null);
  const done = c.req.query("requeued");
  const flash = done === undefined ? undefined : `Re-queued ${Number(done)} event(s) with their original webhook-id.`;
  return c.html(<DeadLettersPage csrf={c.var.csrf} events={page.events} flash={flash} />);
});

consoleApp.post("/dead-letters/redeliver", async (c) => {
  const requeued = await redeliverMatching(c.env, { delivery: "dead" });
  c.set("auditDetails", { filters: { delivery: "dead" }, requeued });
  log("info", "console bulk redelivery of dead letters", { requeued });
  return c.redirect(`/console/dead-letters?requeued=${requeued}`, 303);
});

consoleApp.get("/destinations", async (c) => {
  const done = c.req.query("done");
  const flash = done === undefined ? undefined : `Destination ${done}.`;
  return c.html(<DestinationsPage csrf={c.var.csrf} destinations={await destinationViews(c)} flash={flash} />);
});

consoleApp.post("/destinations/:name/test", async (c) => {
  const sent = await sendTestEvent(c, c.req.param("name"));
  return c.redirect(`${objectHref(sent.object)}?done=test`, 303);
});

consoleApp.post("/destinations/:name/:action{pause|resume}", async (c) => {
  const { name, action } = c.req.param();
  const view = await setPaused(c, name, action === "pause");
  return c.redirect(`/console/destinations?done=${encodeURIComponent(`${view.name} ${view.state}`)}`, 303);
});
