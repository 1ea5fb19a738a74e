// Bulk redelivery: the read model finds the accepted events a filter matches; each object's Durable
// Object re-queues its own, in its order, with their original webhook-id. Bounded per call, so one
// request cannot wake an unbounded number of objects; call again for more.

import { Hono } from "hono";
import type { AppEnv } from "../env";
import { ledgerOf } from "../ledger/client";
import { httpError } from "../lib/http-errors";
import { log } from "../lib/log";
import { isEmpty, type EventFilter } from "../readmodel/filters";
import { forRedelivery } from "../readmodel/queries";
import { filterOf } from "./request-filters";

/** Events re-queued per call at most. */
export const MAX_REDELIVERY = 5_000;

/** Re-queues what the filter matches; returns how many events were re-queued. */
export async function redeliverMatching(env: Env, filter: EventFilter): Promise<number> {
  const byObject = await forRedelivery(env.READ_MODEL, filter, MAX_REDELIVERY);
  let requeued = 0;
  for (const [object, eventIds] of byObject) {
    // Dead letters are re-queued only where they are dead: destinations that took the event are not
    // sent it again (as the per-object action does).
    const where = filter.delivery === "dead" ? { eventIds, state: "dead" as const } : { eventIds };
    requeued += (await ledgerOf(env, object).redeliver(where)).length;
  }
  return requeued;
}

/** POST /admin/redeliver with a JSON body of the list's filters: 202 {"requeued": n}. */
export const redeliverApi = new Hono<AppEnv>();

redeliverApi.post("/redeliver", async (c) => {
  let body: unknown;
  try {
    body = await c.req.json();
  } catch {
    throw httpError(400, "invalid_json", "The body must be a JSON object of filters.");
  }
  if (body === null || typeof body !== "object" || Array.isArray(body))
    throw httpError(400, "invalid_json", "The body must be a JSON object of filters.");
  const filter = filterOf(body as Record<string, unknown>);
  if (isEmpty(filter))
    throw httpError(400, "filter_required", "Give at least one filter; redelivering every event is never implied.");
  const requeued = await redeliverMatching(c.env, filter);
  c.set("auditDetails", { filters: filter, requeued });
  log("info", "admin bulk redelivery", { requeued });
  return c.json({ requeued }, 202);
});
