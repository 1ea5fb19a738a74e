// PortOne's API as the gateway asks it (docs/portone-api.md), through the one client (client.ts):
// a payment's transaction details, a payment link's status, a subscription and its charges, the
// merchant's payments in a window, and a payment's refunds. Every answer is parsed defensively:
// envelopes differ per endpoint (`content`, `body.content`, the top level), and an answer that cannot
// be read, or that is about another reference than the one asked, is `unreadable`, never a status.

import type { PortOneConfig } from "../../config";
import { isRecord } from "../../lib/named-json";
import { err, ok, type Result } from "../../lib/result";
import type { Lookup, LookupFailure } from "../lookup";
import { call, field, type Json } from "./client";

const text = (v: unknown): string | null => (typeof v === "string" && v !== "" ? v : null);

/** The answer's payload: `content`, `body.content`, or the top level. */
function contentOf(body: unknown): unknown {
  const candidates = [field(body, "content"), field(field(body, "body"), "content")];
  return candidates.find((c) => c !== undefined) ?? body;
}

/** What reconciliation learns of an object: its status, and the API's fields to forward as `data`. */
export interface Observed {
  readonly status: string;
  readonly data: Json;
}

function observed(content: unknown, fields: readonly string[], what: string): Lookup<Observed> {
  if (!isRecord(content)) return err({ kind: "unreadable", reason: `${what}: no object in the answer` });
  const status = text(content.status);
  if (status === null) return err({ kind: "unreadable", reason: `${what}: no status in the answer` });
  return ok({ status, data: { ...pick(content, fields), status } });
}

/** The answer's fields that are present (not null), as forwarded in `data`. */
function pick(record: Json, fields: readonly string[]): Json {
  return Object.fromEntries(
    fields.filter((f) => record[f] !== undefined && record[f] !== null).map((f) => [f, record[f]]),
  );
}

/** A payment as a list gives it (a subscription's charges, the merchant's payments). */
export interface ListedPayment {
  readonly orderRef: string;
  readonly status: string;
  readonly data: Json;
}

/** The items of a list with an order_ref, a status and a numeric amount; any other is unreadable and
 *  left out (never a status). */
function listedPayments(list: readonly unknown[], fields: readonly string[], extra: Json = {}): ListedPayment[] {
  return list.filter(isRecord).flatMap((item) => {
    const orderRef = text(item.order_ref);
    const status = text(item.status);
    if (orderRef === null || status === null || typeof item.amount !== "number") return [];
    return [{ orderRef, status, data: { ...extra, ...pick(item, fields) } }];
  });
}

const PAYMENT_FIELDS = [
  "order_ref",
  "merchant_order_ref",
  "channel_order_ref",
  "amount",
  "currency",
  "status",
  "refund_status",
  "payment_link_ref",
  "subscription_order_ref",
  "date",
] as const;

/** A payment by its PortOne order_ref: POST /api/{key}/transaction-details. An answer about another
 *  payment than the one asked (its order_ref, or the merchant_order_ref it was found by) is unreadable. */
export async function paymentDetails(
  portone: PortOneConfig,
  orderRef: string,
  nowMs: number,
  merchantOrderRef?: string,
): Promise<Lookup<Observed>> {
  const key = encodeURIComponent(portone.apiKey ?? "");
  const answer = await call(portone, `/api/${key}/transaction-details`, nowMs, { order_ref: orderRef });
  if (!answer.ok) return answer;
  const seen = observed(contentOf(answer.value), PAYMENT_FIELDS, "transaction-details");
  if (!seen.ok) return seen;
  const { data } = seen.value;
  if (data.order_ref !== orderRef)
    return err({ kind: "unreadable", reason: "transaction-details: the answer is about another order_ref" });
  if (merchantOrderRef !== undefined && data.merchant_order_ref !== merchantOrderRef)
    return err({ kind: "unreadable", reason: "transaction-details: the answer is about another merchant_order_ref" });
  if (typeof data.amount !== "number")
    return err({ kind: "unreadable", reason: "transaction-details: amount is not a number" });
  return seen;
}

/** A payment link by its link_ref: GET /api/paymentLink/{link_ref}/fetch-status, with the
 *  transactions it lists (no amounts: the API gives none there). */
export async function paymentLinkStatus(
  portone: PortOneConfig,
  linkRef: string,
  nowMs: number,
): Promise<Lookup<Observed>> {
  const answer = await call(portone, `/api/paymentLink/${encodeURIComponent(linkRef)}/fetch-status`, nowMs);
  if (!answer.ok) return answer;
  const content = contentOf(answer.value);
  const seen = observed(content, ["paymentLinkRef", "merchantOrderRef"], "fetch-status");
  if (!seen.ok || !isRecord(content)) return seen;
  if (seen.value.data.paymentLinkRef !== linkRef)
    return err({ kind: "unreadable", reason: "fetch-status: the answer is about another link_ref" });
  const list = Array.isArray(content.transactionsList) ? content.transactionsList.filter(isRecord) : [];
  const transactions = list.map((t) => ({
    merchant_order_ref: text(t.merchantOrderRef),
    channel_order_ref: text(t.channelOrderRef),
    status: text(t.status),
    created_at: text(t.createdAt),
  }));
  const { paymentLinkRef, merchantOrderRef, status } = seen.value.data;
  return ok({
    status: seen.value.status,
    data: { link_ref: paymentLinkRef, merchant_order_ref: merchantOrderRef ?? null, status, transactions },
  });
}

/** A payment's PortOne order_ref from the merchant's reference: GET /api/transaction/{merchant_order_ref}/status
 *  (no amount there: follow with paymentDetails). */
export async function orderRefOf(
  portone: PortOneConfig,
  merchantOrderRef: string,
  nowMs: number,
): Promise<Lookup<string>> {
  const answer = await call(portone, `/api/transaction/${encodeURIComponent(merchantOrderRef)}/status`, nowMs);
  if (!answer.ok) return answer;
  const ref = text(field(contentOf(answer.value), "order_ref"));
  return ref === null ? err({ kind: "unreadable", reason: "transaction status: no order_ref in the answer" }) : ok(ref);
}

const SUBSCRIPTION_FIELDS = [
  "status",
  "currency",
  "merchant_order_ref",
  "total_amount",
  "plan_amount",
  "collected_amount",
  "collected_count",
  "next_deduction_amount",
  "next_deduction_date",
] as const;

/** A subscription by its order_ref: GET /api/subscription/{order_ref}. */
export async function subscriptionStatus(
  portone: PortOneConfig,
  orderRef: string,
  nowMs: number,
): Promise<Lookup<Observed>> {
  const answer = await call(portone, `/api/subscription/${encodeURIComponent(orderRef)}`, nowMs);
  if (!answer.ok) return answer;
  const seen = observed(contentOf(answer.value), SUBSCRIPTION_FIELDS, "subscription");
  return seen.ok ? ok({ status: seen.value.status, data: { order_ref: orderRef, ...seen.value.data } }) : seen;
}

/** One charge of a subscription, as txns-records lists it. */
export type Charge = ListedPayment;

const CHARGE_FIELDS = [
  "order_ref",
  "merchant_order_ref",
  "amount",
  "currency",
  "status",
  "channel_name",
  "refund_status",
  "created_at",
];

/** A subscription's charges: GET /api/subscription/{order_ref}/txns-records. A charge without an
 *  order_ref, a status or a numeric amount is left out (unreadable, never a status). */
export async function subscriptionCharges(
  portone: PortOneConfig,
  orderRef: string,
  nowMs: number,
): Promise<Lookup<Charge[]>> {
  const answer = await call(portone, `/api/subscription/${encodeURIComponent(orderRef)}/txns-records`, nowMs);
  if (!answer.ok) return answer;
  const content = contentOf(answer.value);
  if (!Array.isArray(content)) return err({ kind: "unreadable", reason: "txns-records: no list in the answer" });
  return ok(listedPayments(content, CHARGE_FIELDS, { subscription_order_ref: orderRef }));
}

/** One page of the merchant's payments created in a window. */
export interface PaymentsPage {
  readonly payments: ListedPayment[];
  readonly totalPages: number;
}

/** POST /api/merchant/{key}/fetch-all-payments, one page. */
export async function paymentsInWindow(
  portone: PortOneConfig,
  window: { readonly from: string; readonly to: string; readonly page: number; readonly size: number },
  environment: "live" | "sandbox",
  nowMs: number,
): Promise<Lookup<PaymentsPage>> {
  const key = encodeURIComponent(portone.apiKey ?? "");
  const answer = await call(portone, `/api/merchant/${key}/fetch-all-payments`, nowMs, { ...window, environment });
  if (!answer.ok) return answer;
  const body = field(answer.value, "body") ?? answer.value;
  const list = field(body, "content");
  const totalPages = field(body, "total_pages");
  if (!Array.isArray(list) || typeof totalPages !== "number")
    return err({ kind: "unreadable", reason: "fetch-all-payments: no content list or total_pages" });
  const payments = listedPayments(list, [
    "order_ref",
    "merchant_order_ref",
    "amount",
    "currency",
    "status",
    "created_at",
    // A charge of a subscription: it belongs to the subscription's object (reconcile/sweep.ts).
    "subscription_order_ref",
  ]);
  return ok({ payments, totalPages });
}

/** What a refund's lookup may find besides the usual failures: PortOne does not know the payment at all
 *  (no refund of it will ever be listed), as apart from a refund its list does not name yet. */
export type RefundFailure = LookupFailure | { readonly kind: "unknown_payment"; readonly reason: string };

/** A refund as PortOne lists it for its payment: GET /api/refund/{payment order_ref}. A refund the
 *  list does not name is `not_found` (the API may lag the webhook); a payment PortOne does not know
 *  is `unknown_payment`. */
export async function refundOf(
  portone: PortOneConfig,
  paymentTxnRef: string,
  refundId: string,
  nowMs: number,
): Promise<Result<Json, RefundFailure>> {
  const answer = await call(portone, `/api/refund/${encodeURIComponent(paymentTxnRef)}`, nowMs);
  if (!answer.ok)
    return answer.error.kind === "not_found" ? err({ kind: "unknown_payment", reason: answer.error.reason }) : answer;
  const details = refundDetails(answer.value);
  if (details === null) return err({ kind: "unreadable", reason: "PortOne API answered without refundDetails" });
  const detail = details.find((d) => d.refund_id === refundId);
  return detail ? ok(detail) : err({ kind: "not_found", reason: "PortOne lists no refund with this refund_id" });
}

/** refundDetails at the top level or inside the API's `content` / `data` wrapper. */
function refundDetails(body: unknown): Json[] | null {
  for (const candidate of [body, field(body, "content"), field(body, "data")]) {
    const list = field(candidate, "refundDetails");
    if (Array.isArray(list)) return list.filter(isRecord);
  }
  return null;
}
