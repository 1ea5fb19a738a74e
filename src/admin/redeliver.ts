// Bulk redelivery: the read model finds the accepted events a filter matches; each object's Durable
// Object re-queues its own, in its order, with their original webhook-id. Bounded per call, so one
// request cannot wake an unbounded number of objects; call again for more.

import { ledgerByName } from "../ledger/ledger";
import type { EventFilter } from "../readmodel/filters";
import { forRedelivery } from "../readmodel/queries";

/** Events re-queued per call at most. */
export const MAX_REDELIVERY = 5_000;

/** Re-queues what the filter matches; returns how many events were re-queued. */
export async function redeliverMatching(env: Env, filter: EventFilter): Promise<number> {
  const byObject = await forRedelivery(env.READ_MODEL, filter, MAX_REDELIVERY);
  let requeued = 0;
  for (const [object, eventIds] of byObject) {
    // Dead letters are re-queued only where they are dead: destinations that took the event are not
    // sent it again (as the per-object action does).
    requeued += (await ledgerByName(env, object).redeliver(eventIds, filter.delivery === "dead")).length;
  }
  return requeued;
}
