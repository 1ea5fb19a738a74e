// Reconciliation inside one ledger: ask PortOne's API what it knows of this object, and record a
// status the object has not had as an event with source "reconciliation", through the same state
// machine as a webhook (a finished object never moves backwards) and the same outbox. For an active
// subscription, and once more when it leaves Active, also each charge of txns-records not seen
// before, as a `subscription_charge` event on the subscription's object (object_ref = the
// subscription's order_ref, the charge's own in data.order_ref; once per charge and status: its
// identity is the charge's ref, status, amount and currency; each charge has its own lifecycle). An
// answer the gateway cannot read, about another reference than the one asked, or with a status
// outside the kind's lifecycle changes nothing.

import type { PortOneConfig } from "../config";
import {
  orderRefOf,
  paymentDetails,
  paymentLinkStatus,
  subscriptionCharges,
  subscriptionStatus,
  type Charge,
  type Observed,
} from "../egress/portone/lookups";
import type { Lookup, LookupFailure } from "../egress/lookup";
import { eventIdOf } from "../providers/event-id";
import { PAYMENT, SIGNED_KINDS_BY_NAME } from "../providers/portone/kinds";
import { inLifecycle, positionOf, type StatusPosition } from "../providers/types";
import type { Outbox } from "./outbox";
import { recordEvent, type RecordInput } from "./record";
import type { LedgerStore } from "./store";

/** What one check found: events it recorded as accepted, API calls made, and any failure. */
export interface CheckResult {
  readonly changed: number;
  /** Of those, the object's own statuses (not its charges': those only the API tells). */
  readonly missed?: number;
  readonly apiCalls: number;
  readonly failure: LookupFailure | null;
}

export const CHARGE_KIND = "subscription_charge";

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

/** What a check is about: the object (its kind and ref) and its name. */
export interface Target {
  readonly kind: string;
  readonly ref: string;
  readonly objectName: string;
}

/** Checks the object named `kind`/`ref` (a PortOne signed kind). */
export async function checkObject(
  store: LedgerStore,
  outbox: Outbox,
  portone: PortOneConfig,
  target: Target,
  now: number,
): Promise<CheckResult> {
  const sql = store.sql;
  const kind = SIGNED_KINDS_BY_NAME.get(target.kind);
  if (kind === undefined) return { changed: 0, apiCalls: 0, failure: null };
  const answer = await lookUp(portone, target.kind, target.ref, now);
  if (!answer.ok) return { changed: 0, apiCalls: 1, failure: answer.error };
  let observed = answer.value;
  let apiCalls = 1;
  if (!inLifecycle(kind.lifecycle, observed.status))
    return { changed: 0, apiCalls, failure: outsideLifecycle(target.kind, observed.status) };
  const wasActive = target.kind === "subscription_link" && isActive(sql, target.ref);
  if (target.kind === "payment_link" && !hasHadStatus(sql, target.kind, target.ref, observed.status)) {
    const followed = await withLinkPayment(portone, observed, now);
    observed = followed.observed;
    apiCalls += followed.apiCalls;
  }
  const changed = await recordObserved(store, outbox, target, observed, now);
  // Charges are read while the subscription is active, and once more as it leaves Active (completed,
  // cancelled), so the charge that completed it, or came before its cancellation, is not lost.
  const readCharges = target.kind === "subscription_link" && (wasActive || changed > 0 || isActive(sql, target.ref));
  if (!readCharges) return { changed, missed: changed, apiCalls, failure: null };
  const charges = await checkCharges(store, outbox, portone, target, now);
  return {
    changed: changed + charges.changed,
    missed: changed,
    apiCalls: apiCalls + charges.apiCalls,
    failure: charges.failure,
  };
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
  const payment = await paymentDetails(portone, orderRef.value, now, merchantRef);
  if (!payment.ok) return { observed: link, apiCalls: 2 };
  const { amount, currency } = payment.value.data;
  return { observed: { ...link, data: { ...link.data, order_ref: orderRef.value, amount, currency } }, apiCalls: 2 };
}

/** Records what the API said of the object if it is a status the object has not had: through the
 *  state machine (stale after a terminal status), forwarded when accepted. Returns 1 if accepted. */
export async function recordObserved(
  store: LedgerStore,
  outbox: Outbox,
  target: Target,
  observed: Observed,
  now: number,
): Promise<number> {
  const sql = store.sql;
  const kind = SIGNED_KINDS_BY_NAME.get(target.kind);
  const { status, data } = observed;
  if (kind === undefined || !inLifecycle(kind.lifecycle, status)) return 0;
  if (hasHadStatus(sql, target.kind, target.ref, status)) return 0;
  const eventId = await eventIdOf("portone", target.kind, { reconciled: data });
  const input = reconciled(target.kind, target.ref, eventId, status, positionOf(kind.lifecycle, status), data, now);
  const outcome = recordEvent(store, outbox, input, target.objectName);
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
  store: LedgerStore,
  outbox: Outbox,
  portone: PortOneConfig,
  target: Omit<Target, "kind">,
  now: number,
): Promise<CheckResult> {
  const answer = await subscriptionCharges(portone, target.ref, now);
  if (!answer.ok) return { changed: 0, apiCalls: 1, failure: answer.error };
  let changed = 0;
  for (const charge of answer.value) changed += await recordCharge(store, outbox, target, charge, now);
  return { changed, apiCalls: 1, failure: null };
}

/** Records one charge of the subscription (from txns-records, or listed by the sweep) on the
 *  subscription's object: object_ref is the subscription's order_ref, the charge's own is in
 *  data.order_ref and names the lifecycle the charge moves. Returns 1 if accepted. A charge whose
 *  status is not a payment's is unknown: nothing is recorded. */
export async function recordCharge(
  store: LedgerStore,
  outbox: Outbox,
  target: Omit<Target, "kind">,
  charge: Charge,
  now: number,
): Promise<number> {
  if (!inLifecycle(PAYMENT.lifecycle, charge.status)) return 0;
  const { amount, currency } = charge.data;
  const identity = { order_ref: charge.orderRef, status: charge.status.toLowerCase(), amount, currency };
  const eventId = await eventIdOf("portone", CHARGE_KIND, identity);
  const position = positionOf(PAYMENT.lifecycle, charge.status);
  const data = { ...charge.data, order_ref: charge.orderRef, subscription_order_ref: target.ref };
  const input = {
    ...reconciled(CHARGE_KIND, target.ref, eventId, charge.status, position, data, now),
    lifecycleRef: charge.orderRef,
  };
  const outcome = recordEvent(store, outbox, input, target.objectName);
  return outcome.result === "accepted" ? 1 : 0;
}

/** A status the kind's lifecycle does not have: the answer is unknown, never an event. */
function outsideLifecycle(kind: string, status: string): LookupFailure {
  return {
    kind: "unreadable",
    reason: `PortOne API gave a ${kind} status outside its lifecycle (${JSON.stringify(status)})`,
  };
}
