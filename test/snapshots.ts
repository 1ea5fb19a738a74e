// Read-model rows for tests that write snapshots directly: a payment's object row and its event rows,
// with the fields a test cares about overridden.
import type { EventRow, ObjectRow } from "../src/readmodel/rows";

export function objectRowOf(ref: string, fields: Partial<ObjectRow> = {}): ObjectRow {
  return {
    object: `portone:payment:${ref}`,
    provider: "portone",
    kind: "payment",
    object_ref: ref,
    merchant_order_ref: null,
    status: "Paid",
    finished: 0,
    first_seen_at: 1_000,
    last_seen_at: 1_000,
    pending: 0,
    delivered: 0,
    dead: 0,
    oldest_pending_at: null,
    next_due_at: null,
    confirming: 0,
    unconfirmed: 0,
    ...fields,
  };
}

/** The `i`-th delivered event of a payment. */
export function eventRowOf(ref: string, i: number): EventRow {
  return {
    event_id: `${ref}_e${i}`,
    provider: "portone",
    kind: "payment",
    object_ref: ref,
    merchant_order_ref: null,
    type: "portone.payment.paid",
    status: "Paid",
    outcome: "accepted",
    source: "webhook",
    received_at: 1_000 + i,
    seq: i + 1,
    delivery: "delivered",
    attempts: 1,
    last_error: null,
    delivered_at: 2_000 + i,
    delivery_updated_at: 2_000 + i,
    pending_to: null,
    delivered_to: null,
    dead_to: null,
  };
}
