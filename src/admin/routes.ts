// The operator API: an object's state, history and delivery attempts, and redelivery of one event
// or of an object's dead letters (from its Durable Object, the authority); search, stats, dead
// letters and bulk redelivery across objects (from the read model, search.ts); a reconciliation pass
// on demand (reconcile/pass.ts).

import { Hono } from "hono";
import type { AppEnv } from "../env";
import { httpError, notConfigured } from "../lib/http-errors";
import { log } from "../lib/log";
import { adminAuth } from "./auth";
import { auditTrail } from "./audit";
import { auditPage } from "./request-filters";
import { listAudit } from "../readmodel/audit";
import { parseTime } from "../readmodel/filters";
import { alertsApi } from "./alerts";
import { destinationsApi } from "./destinations";
import { stubFor } from "./object-stub";
import { runPass } from "../reconcile/pass";
import { redeliverApi } from "./redeliver";
import { search } from "./search";
import { metricsApi } from "./metrics";

export const admin = new Hono<AppEnv>();
admin.use("*", adminAuth());
admin.use("*", auditTrail("token"));
admin.route("/metrics", metricsApi);

const objectPath = "/objects/:provider/:kind/:ref";

admin.get(objectPath, async (c) => {
  const { provider, kind, ref } = c.req.param();
  const ledger = stubFor(c, provider, kind, ref);
  const report = await ledger.inspect();
  if (report.events.length === 0 && report.confirmations.length === 0)
    throw httpError(404, "not_found", "No event or hint was ever recorded for this object.");
  return c.json({ object: ledger.objectName, ...report });
});

admin.post(`${objectPath}/events/:eventId/redeliver`, async (c) => {
  const { provider, kind, ref, eventId } = c.req.param();
  const requeued = await stubFor(c, provider, kind, ref).redeliver({ eventIds: [eventId] });
  if (requeued.length === 0) {
    throw httpError(
      404,
      "not_found",
      "No forwardable event with this id on this object (stale events are never forwarded).",
    );
  }
  log("info", "admin redelivery", { object_ref: ref, kind, event_id: eventId });
  return c.json({ requeued }, 202);
});

admin.post(`${objectPath}/redeliver-dead`, async (c) => {
  const { provider, kind, ref } = c.req.param();
  const requeued = await stubFor(c, provider, kind, ref).redeliver({ state: "dead" });
  log("info", "admin redelivery of dead letters", { object_ref: ref, kind, count: requeued.length });
  return c.json({ requeued }, 202);
});

admin.post("/reconcile", async (c) => {
  const settings = c.var.config.reconcile;
  if (!settings.ok) throw notConfigured(`${settings.error.key} is invalid.`);
  const pass = await runPass(c.env, c.var.config, "admin");
  c.set("auditDetails", { checked: pass.checked, changed: pass.changed });
  return c.json(pass);
});

admin.get("/audit", async (c) => {
  const query = c.req.query();
  const since = query.since === undefined ? 0 : parseTime(query.since);
  if (since === null) throw httpError(400, "invalid_filter", "since must be an ISO 8601 time or epoch milliseconds");
  const { limit, after } = auditPage(query.limit, query.cursor);
  return c.json(await listAudit(c.env.READ_MODEL, since, limit, after));
});

admin.route("/destinations", destinationsApi);
admin.route("/alerts", alertsApi);
admin.route("/", search);
admin.route("/", redeliverApi);
