// PortOne refund webhooks (spec §4): unsigned upstream, so the body is only a hint that a refund
// of a payment changed. It is checked for shape, stored, and never forwarded as such: what is
// forwarded comes from PortOne's refund API (egress/portone/lookups.ts), for the refund_id the hint names.

import { ok, type Result } from "../../lib/result";
import { parseJsonObject } from "../json-scan";
import { reject, type Lifecycle, type Rejection } from "../types";

export interface RefundHint {
  readonly refundId: string;
  /** The PortOne order_ref of the refunded payment: the refund lives in that payment's ledger. */
  readonly paymentTxnRef: string;
  /** The refund_status the hint claims (null when it names none). */
  readonly status: string | null;
  readonly payload: Record<string, unknown>;
}

/** Refund statuses seen: SUCCESS, IN_QUEUE (§4.2); FAILED and PENDING are likely. */
export const REFUND_LIFECYCLE: Lifecycle = {
  ranks: { in_queue: 0, pending: 0, processing: 1 },
  terminal: ["success", "failed", "rejected", "cancelled", "canceled"],
};

export function parseRefundHint(raw: string): Result<RefundHint, Rejection> {
  const parsed = parseJsonObject(raw);
  if (!parsed.ok) return parsed;
  const payload = parsed.value.object;
  for (const field of ["refund_id", "payment_txn_ref"] as const) {
    const v = payload[field];
    if (typeof v !== "string") {
      const reason = v === undefined || v === null ? "missing_object_ref" : "invalid_field_type";
      return reject(reason, `${field} is ${v === undefined ? "missing" : typeof v}`);
    }
    if (v.trim() === "") return reject("missing_object_ref", `${field} is empty`);
  }
  const status = payload.refund_status ?? null;
  if (status !== null && typeof status !== "string")
    return reject("invalid_field_type", `refund_status is ${typeof status}`);
  return ok({
    refundId: payload.refund_id as string,
    paymentTxnRef: payload.payment_txn_ref as string,
    status: status === "" ? null : status,
    payload,
  });
}

/** A hint's identity: its refund and the status it claims, nothing else. The hint is unsigned, so
 *  whatever else it carries could be varied at will to mint "new" hints, each one a call to PortOne's API. */
export function refundHintIdentity(hint: RefundHint): {
  readonly refund_id: string;
  readonly refund_status: string | null;
} {
  return { refund_id: hint.refundId, refund_status: hint.status };
}
