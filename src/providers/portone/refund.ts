// PortOne refund webhooks (spec §4): unsigned upstream, so the body is only a hint that a refund
// of a payment changed. It is checked for shape, stored, and never forwarded as such: what is
// forwarded comes from PortOne's refund API (api.ts), for the refund_id the hint names.

import type { Lifecycle, Rejection } from "../types";
import { scanJsonObject } from "../json-scan";
import { MAX_JSON_DEPTH } from "../../limits";

export interface RefundHint {
  readonly refundId: string;
  /** The PortOne order_ref of the refunded payment: the refund lives in that payment's ledger. */
  readonly paymentTxnRef: string;
  readonly payload: Record<string, unknown>;
}

/** Refund statuses seen: SUCCESS, IN_QUEUE (§4.2); FAILED and PENDING are likely. */
export const REFUND_LIFECYCLE: Lifecycle = {
  ranks: { in_queue: 0, pending: 0, processing: 1 },
  terminal: ["success", "failed", "rejected", "cancelled", "canceled"],
};

export function parseRefundHint(raw: string): { ok: true; hint: RefundHint } | { ok: false; rejection: Rejection } {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return { ok: false, rejection: { reason: "invalid_json", detail: "body is not valid JSON" } };
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    return { ok: false, rejection: { reason: "not_an_object", detail: "body is not a JSON object" } };
  }
  if (scanJsonObject(raw).depth > MAX_JSON_DEPTH) return { ok: false, rejection: { reason: "too_deep", detail: "nesting" } };
  const payload = value as Record<string, unknown>;
  for (const field of ["refund_id", "payment_txn_ref"] as const) {
    const v = payload[field];
    if (typeof v !== "string") {
      const reason = v === undefined || v === null ? "missing_object_ref" : "invalid_field_type";
      return { ok: false, rejection: { reason, detail: `${field} is ${v === undefined ? "missing" : typeof v}` } };
    }
    if (v.trim() === "") return { ok: false, rejection: { reason: "missing_object_ref", detail: `${field} is empty` } };
  }
  return {
    ok: true,
    hint: { refundId: payload.refund_id as string, paymentTxnRef: payload.payment_txn_ref as string, payload },
  };
}
