// Who confirms a hint, and how an API's answer becomes an event (confirm.ts runs them all alike):
// PortOne's refunds (its refund list for the payment), Midtrans's transactions (its status API, as
// Midtrans's own library re-fetches the status), Payment Options' transactions (its transaction-status
// API). An answer about another reference than the one asked, or one that cannot be read, is unknown:
// nothing is recorded from it. Card numbers in an answer are masked before it is kept.

import type { Config } from "../config";
import type { Lookup } from "../egress/lookup";
import { refundOf } from "../egress/portone/lookups";
import { midtransStatus, paymentOptionsStatus } from "../egress/status-apis";
import { clock } from "../lib/clock";
import { isRecord } from "../lib/named-json";
import { maskCards } from "../providers/card-mask";
import { eventIdOf } from "../providers/event-id";
import { objectNameParts } from "../providers/names";
import { REFUND_LIFECYCLE } from "../providers/portone/refund";
import type { ConfirmerName } from "../providers/proven";
import { paymentOptionsStatus as statusOfAnswer } from "../providers/schemes/payment-options";
import type { SchemeSource } from "../providers/sources/parse";
import { positionOf } from "../providers/types";
import { hasHadStatus } from "./check-with-portone";
import type { DueConfirmation } from "./confirmations";
import type { RecordInput } from "./record";

/** What the API said about a subject. */
export type Answer =
  /** A status, whether it is final, and the event to record for it (if not recorded yet). */
  | { readonly kind: "found"; readonly status: string; readonly final: boolean; readonly record: RecordInput }
  /** The API does not know the subject yet, or answered about another reference: asked again later. */
  | { readonly kind: "not_settled"; readonly reason: string }
  /** PortOne does not know the refund's payment at all: none of its refunds will ever be listed. */
  | { readonly kind: "unknown_parent"; readonly reason: string }
  | { readonly kind: "failed"; readonly failure: "auth" | "unavailable" | "unreadable"; readonly reason: string };

export interface Confirmers {
  ask(due: DueConfirmation): Promise<Answer>;
  /** Whether a status is final for the subject's provider. */
  isFinal(due: DueConfirmation, status: string): boolean;
  /** Whether this status of the subject is recorded already (each status is forwarded once). */
  recorded(sql: SqlStorage, due: DueConfirmation, status: string): boolean;
}

/** Midtrans's statuses after which a transaction moves no more (pending and authorize do). */
const MIDTRANS_FINAL = new Set([
  "settlement",
  "capture",
  "deny",
  "cancel",
  "expire",
  "failure",
  "refund",
  "chargeback",
]);

/** The confirmers of one object: its name tells which source's API and credentials ask (a source's
 *  objects are named by the source). */
export function confirmersFor(config: Config, objectName: () => string | null): Confirmers {
  const source = (): SchemeSource | null => {
    const name = objectName();
    const found =
      name === null || !config.sources.ok ? undefined : config.sources.value.get(objectNameParts(name).provider);
    return found !== undefined && "options" in found ? found : null;
  };
  return {
    ask: (due) => (due.confirmer === "portone-refund" ? askPortOne(config, due) : askScheme(due, source())),
    isFinal: (due, status) =>
      due.confirmer === "portone-refund"
        ? positionOf(REFUND_LIFECYCLE, status).terminal
        : due.confirmer === "midtrans"
          ? MIDTRANS_FINAL.has(status.toLowerCase())
          : true,
    // A refund's events are named by the refund: each status once. A transaction's event ids name the
    // transaction and its status, so the ledger's own deduplication keeps each once.
    recorded: (sql, due, status) =>
      due.confirmer === "portone-refund" && hasHadStatus(sql, "refund", due.subject, status),
  };
}

async function askPortOne(config: Config, due: DueConfirmation): Promise<Answer> {
  const lookup = await refundOf(config.portone, due.parentRef, due.subject, clock.now());
  if (!lookup.ok) {
    const { kind, reason } = lookup.error;
    if (kind === "unknown_payment")
      return { kind: "unknown_parent", reason: `PortOne does not know payment ${due.parentRef}: ${reason}` };
    return kind === "not_found" ? { kind: "not_settled", reason } : { kind: "failed", failure: kind, reason };
  }
  const status = lookup.value.refund_status;
  if (typeof status !== "string" || status === "")
    return { kind: "failed", failure: "unreadable", reason: "PortOne API returned no refund_status" };
  const data = { ...lookup.value, payment_txn_ref: due.parentRef };
  const record: RecordInput = {
    provider: "portone",
    kind: "refund",
    objectRef: due.subject,
    eventId: await eventIdOf("portone", "refund", data),
    status,
    position: positionOf(REFUND_LIFECYCLE, status),
    data: JSON.stringify(data),
    unverified: null,
    // Learned from the refund webhook's hint; only the API's answer is forwarded.
    source: "webhook",
    contentHash: null,
    receivedAt: new Date(clock.now()).toISOString(),
  };
  return { kind: "found", status, final: positionOf(REFUND_LIFECYCLE, status).terminal, record };
}

/** An API-confirmed scheme's answer for a transaction: its id, status and event, or why not. */
async function askScheme(due: DueConfirmation, source: SchemeSource | null): Promise<Answer> {
  const scheme = due.confirmer as Exclude<ConfirmerName, "portone-refund">;
  const { apiBaseUrl, apiKey } = source?.options ?? { apiBaseUrl: null, apiKey: null };
  const [secret] = source?.secrets ?? [];
  if (source === null || apiBaseUrl === null || (scheme === "midtrans" ? secret : apiKey) == null)
    return {
      kind: "failed",
      failure: "auth",
      reason: `the ${scheme} source or its API credentials are not configured`,
    };
  const lookup: Lookup<Record<string, unknown>> =
    scheme === "midtrans"
      ? await midtransStatus(apiBaseUrl, secret ?? "", due.subject)
      : await paymentOptionsStatus(apiBaseUrl, apiKey ?? "", due.subject);
  if (!lookup.ok) {
    const { kind, reason } = lookup.error;
    return kind === "not_found" ? { kind: "not_settled", reason } : { kind: "failed", failure: kind, reason };
  }
  const read = scheme === "midtrans" ? midtransAnswer(lookup.value, due) : paymentOptionsAnswer(lookup.value, due);
  if (typeof read === "string") return { kind: "not_settled", reason: read };
  const data = maskCards(lookup.value) as Record<string, unknown>;
  const record: RecordInput = {
    provider: scheme,
    kind: "payment",
    objectRef: read.objectRef,
    eventId: await eventIdOf(scheme, "event", { id: read.id, source: source.name }),
    status: read.status,
    position: positionOf(source.overrides.lifecycle, read.status),
    data: JSON.stringify(data),
    unverified: null,
    source: "api",
    contentHash: null,
    receivedAt: new Date(clock.now()).toISOString(),
    sourceName: source.name,
  };
  const final = scheme === "midtrans" ? MIDTRANS_FINAL.has(read.status.toLowerCase()) : true;
  return { kind: "found", status: read.status, final, record };
}

type Read = { readonly id: string; readonly objectRef: string; readonly status: string } | string;

/** Midtrans: about the hint's order (its order_id), with a transaction_status. */
function midtransAnswer(answer: Record<string, unknown>, due: DueConfirmation): Read {
  const [orderId, transactionId, status] = [answer.order_id, answer.transaction_id, answer.transaction_status];
  if (typeof orderId !== "string" || orderId !== due.parentRef)
    return `Midtrans answered about another order (${typeof orderId === "string" ? "order_id differs" : "no order_id"})`;
  if (typeof transactionId !== "string" || typeof status !== "string" || status === "")
    return "Midtrans answered without a transaction_id or transaction_status";
  return { id: `${transactionId}:${status}`, objectRef: orderId, status };
}

/** Payment Options: about the hint's transaction (transaction_details.id), with a type and success. */
function paymentOptionsAnswer(answer: Record<string, unknown>, due: DueConfirmation): Read {
  const details = isRecord(answer.transaction_details) ? answer.transaction_details : null;
  const id = details?.id;
  if (typeof id !== "string" || id !== due.subject) return "Payment Options answered about another transaction";
  const status = statusOfAnswer(answer);
  if (status === null) return "Payment Options answered without a transaction_type or success";
  return { id: `${id}:${String(answer.transaction_type)}:${String(answer.success)}`, objectRef: id, status };
}
