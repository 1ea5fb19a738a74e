// The operator API: an object's state, history and delivery attempts, and redelivery of one event
// or of an object's dead letters (from its Durable Object, the authority); search, stats, dead
// letters and bulk redelivery across objects (from the read model, search.ts).

import { Hono, type Context } from "hono";
import type { AppEnv } from "../env";
import { httpError } from "../lib/http-errors";
import { ledgerFor } from "../ledger/ledger";
import { log } from "../lib/log";
import { adminAuth } from "./auth";
import { search } from "./search";

/** PortOne's kinds with a ledger (the generic sources' come from WEBHOOK_SOURCES); any other
 *  name would only create an empty Durable Object. */
const KNOWN_OBJECTS: Readonly<Record<string, readonly string[]>> = {
  portone: ["payment", "payment_link", "subscription_link"],
};

export const admin = new Hono<AppEnv>();
admin.use("*", adminAuth());

const objectPath = "/objects/:provider/:kind/:ref";

function stubFor(c: Context<AppEnv>, provider: string, kind: string, ref: string) {
  const configured = c.var.config.sources;
  const source = configured.ok ? configured.value.get(provider) : undefined;
  if (!KNOWN_OBJECTS[provider]?.includes(kind) && source?.kind !== kind) {
    const sources = configured.ok ? [...configured.value.values()].map((src) => `${src.name}/${src.kind}`) : [];
    const named = [`portone/<${KNOWN_OBJECTS.portone?.join("|")}>`, ...sources].join(", ");
    throw httpError(404, "unknown_object_kind", `Objects are named /objects/<provider>/<kind>/<ref>, with ${named}.`);
  }
  return ledgerFor(c.env, provider, kind, ref);
}

admin.get(objectPath, async (c) => {
  const { provider, kind, ref } = c.req.param();
  const report = await stubFor(c, provider, kind, ref).inspect();
  if (report.events.length === 0) throw httpError(404, "not_found", "No event was ever recorded for this object.");
  return c.json({ object: `${provider}:${kind}:${ref}`, ...report });
});

admin.post(`${objectPath}/events/:eventId/redeliver`, async (c) => {
  const { provider, kind, ref, eventId } = c.req.param();
  const requeued = await stubFor(c, provider, kind, ref).redeliver([eventId]);
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
  const requeued = await stubFor(c, provider, kind, ref).redeliverDead();
  log("info", "admin redelivery of dead letters", { object_ref: ref, kind, count: requeued.length });
  return c.json({ requeued }, 202);
});

admin.route("/", search);
