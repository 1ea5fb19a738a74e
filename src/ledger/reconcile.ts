// Reconciliation inside one ledger: ask PortOne's API what it knows of this object, and record a
// status the object has not had as an event with source "reconciliation", through the same state
// machine as a webhook (a finished object never moves backwards) and the same outbox. For an active
// subscription, also each charge of txns-records not seen before, as a `subscription_charge` event
// on the subscription's object (once per charge and status: its identity is the charge's ref,
// status, amount and currency). An answer the gateway cannot read changes nothing.

import type { PortOneConfig } from "../config";
import {
  orderRefOf,
  paymentDetails,
  paymentLinkStatus,
  subscriptionCharges,
  subscriptionStatus,
  type Lookup,
  type LookupFailure,
  type Observed,
} from "../egress/portone-lookups";
import { eventIdOf } from "../providers/event-id";
import { PAYMENT, SIGNED_KINDS_BY_NAME } from "../providers/portone/kinds";
import { positionOf, type StatusPosition } from "../providers/types";
import type { Outbox } from "./outbox";
import { recordEvent, type RecordInput, type RecordOutcome } from "./record";

/** What one check found: events it recorded as accepted, API calls made, and any failure. */
export interface CheckResult {
  readonly changed: number;
  readonly apiCalls: number;
  readonly failure: LookupFailure | null;
}

export const CHARGE_KIND = "subscription_charge";

type Record_ = (write: () => RecordOutcome) => RecordOutcome;

/** Whether the object has had this status (any event of it, from a webhook or a check). */
export function hasHadStatus(sql: SqlStorage, kind: string, objectRef: string, status: string): boolean {
  return (
    sql
      .exec(
        "SELECT 1 FROM events WHERE kind = ? AND object_ref = ? AND lower(status) = lower(?) LIMIT 1",
        kind,
        objectRef,
        status,
      )
      .toArray().length > 0
  );
}

async function lookUp(portone: PortOneConfig, kind: string, ref: string, now: number): Promise<Lookup<Observed>> {
  if (kind === "payment") return paymentDetails(portone, ref, now);
  if (kind === "payment_link") return paymentLinkStatus(portone, ref, now);
  return subscriptionStatus(portone, ref, now);
}

/** Checks the object named `kind`/`ref` (a PortOne signed kind). `transaction` runs the writes in
 *  the Durable Object's transaction. */
export async function checkObject(
  sql: SqlStorage,
  outbox: Outbox,
  portone: PortOneConfig,
  target: { readonly kind: string; readonly ref: string; readonly ledger: string },
  now: number,
  transaction: Record_,
): Promise<CheckResult> {
  const kind = SIGNED_KINDS_BY_NAME.get(target.kind);
  if (kind === undefined) return { changed: 0, apiCalls: 0, failure: null };
  const answer = await lookUp(portone, target.kind, target.ref, now);
  if (!answer.ok) return { changed: 0, apiCalls: 1, failure: answer.error };
  let observed = answer.value;
  let apiCalls = 1;
  if (target.kind === "payment_link" && !hasHadStatus(sql, target.kind, target.ref, observed.status)) {
    const followed = await withLinkPayment(portone, observed, now);
    observed = followed.observed;
    apiCalls += followed.apiCalls;
  }
  const changed = await recordObserved(sql, outbox, target, observed, now, transaction);
  if (target.kind !== "subscription_link" || !isActive(sql, target.ref)) return { changed, apiCalls, failure: null };
  const charges = await checkCharges(sql, outbox, portone, target, now, transaction);
  return { changed: changed + charges.changed, apiCalls: apiCalls + charges.apiCalls, failure: charges.failure };
}

/** fetch-status gives a link's status but no amount: a successful transaction it lists is followed
 *  to its payment (order_ref, then transaction-details) for the amount and currency. A failure to
 *  follow leaves the link's status as fetch-status gave it. At most 2 calls. */
async function withLinkPayment(
  portone: PortOneConfig,
  link: Observed,
  now: number,
): Promise<{ observed: Observed; apiCalls: number }> {
  const transactions = Array.isArray(link.data.transactions)
    ? (link.data.transactions as Array<Record<string, unknown>>)
    : [];
  const paid = transactions.find((t) => typeof t.status === "string" && t.status.toLowerCase() === "success");
  const merchantRef = typeof paid?.merchant_order_ref === "string" ? paid.merchant_order_ref : null;
  if (merchantRef === null) return { observed: link, apiCalls: 0 };
  const orderRef = await orderRefOf(portone, merchantRef, now);
  if (!orderRef.ok) return { observed: link, apiCalls: 1 };
  const payment = await paymentDetails(portone, orderRef.value, now);
  if (!payment.ok) return { observed: link, apiCalls: 2 };
  const { amount, currency } = payment.value.data;
  return { observed: { ...link, data: { ...link.data, order_ref: orderRef.value, amount, currency } }, apiCalls: 2 };
}

/** Records what the API said of the object if it is a status the object has not had: through the
 *  state machine (stale after a terminal status), forwarded when accepted. Returns 1 if accepted. */
export async function recordObserved(
  sql: SqlStorage,
  outbox: Outbox,
  target: { readonly kind: string; readonly ref: string; readonly ledger: string },
  observed: Observed,
  now: number,
  transaction: Record_,
): Promise<number> {
  const kind = SIGNED_KINDS_BY_NAME.get(target.kind);
  const { status, data } = observed;
  if (kind === undefined || hasHadStatus(sql, target.kind, target.ref, status)) return 0;
  const eventId = await eventIdOf("portone", target.kind, { reconciled: data });
  const input = reconciled(target.kind, target.ref, eventId, status, positionOf(kind.lifecycle, status), data, now);
  const outcome = transaction(() => recordEvent(sql, outbox, input, target.ledger));
  return outcome.result === "accepted" ? 1 : 0;
}

/** An event learned from PortOne's API, as the ledger records it: no body, nothing unverified. */
function reconciled(
  kind: string,
  objectRef: string,
  eventId: string,
  status: string,
  position: StatusPosition,
  data: Record<string, unknown>,
  now: number,
): RecordInput {
  return {
    provider: "portone",
    kind,
    objectRef,
    eventId,
    status,
    position,
    data: JSON.stringify(data),
    unverified: null,
    source: "reconciliation",
    contentHash: null,
    receivedAt: new Date(now).toISOString(),
  };
}

function isActive(sql: SqlStorage, ref: string): boolean {
  const row = sql
    .exec<{ status: string }>(
      "SELECT status FROM object_state WHERE kind = 'subscription_link' AND object_ref = ?",
      ref,
    )
    .toArray()[0];
  return row?.status.toLowerCase() === "active";
}

/** Each charge of the subscription not seen before (per charge and status), forwarded once. */
export async function checkCharges(
  sql: SqlStorage,
  outbox: Outbox,
  portone: PortOneConfig,
  target: { readonly ref: string; readonly ledger: string },
  now: number,
  transaction: Record_,
): Promise<CheckResult> {
  const answer = await subscriptionCharges(portone, target.ref, now);
  if (!answer.ok) return { changed: 0, apiCalls: 1, failure: answer.error };
  let changed = 0;
  for (const charge of answer.value) {
    const { amount, currency } = charge.data;
    const identity = { order_ref: charge.orderRef, status: charge.status.toLowerCase(), amount, currency };
    const eventId = await eventIdOf("portone", CHARGE_KIND, identity);
    const position = positionOf(PAYMENT.lifecycle, charge.status);
    const input = reconciled(CHARGE_KIND, charge.orderRef, eventId, charge.status, position, charge.data, now);
    const outcome = transaction(() => recordEvent(sql, outbox, input, target.ledger));
    if (outcome.result === "accepted") changed += 1;
  }
  return { changed, apiCalls: 1, failure: null };
}

const CHARGES_DUE = "charges_due_at";

/** When the subscription's charges are next to be read from txns-records (null: not due). */
export function chargesDueAt(sql: SqlStorage): number | null {
  const raw = sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = ?", CHARGES_DUE).toArray()[0]?.value;
  return raw === undefined ? null : Number(raw);
}

/** An Active webhook (a charge was made: PortOne sends Active again) has the alarm read txns-records. */
export function markChargesDue(sql: SqlStorage, at: number | null): void {
  if (at === null) sql.exec("DELETE FROM meta WHERE key = ?", CHARGES_DUE);
  else sql.exec("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", CHARGES_DUE, String(at));
}
