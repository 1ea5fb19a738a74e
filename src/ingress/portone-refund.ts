// POST /webhooks/portone/refund. The refund webhook carries no signature (spec §4.4), so nothing
// in it is trusted: it is shape-checked, kept durably in the refunded payment's ledger, answered
// 200, and then confirmed with PortOne's API by that ledger's alarm. Only the API's answer is ever
// forwarded.

import type { Context } from "hono";
import { clock } from "../lib/clock";
import type { AppEnv } from "../env";
import { httpError } from "../lib/http-errors";
import { rejectionError } from "./rejections";
import { ledgerOf } from "../ledger/client";
import { objectNameOf } from "../ledger/object-name";
import { log } from "../lib/log";
import { errorText } from "../lib/result";
import { eventIdOf } from "../providers/event-id";
import { parseRefundHint, refundHintIdentity } from "../providers/portone/refund";

export async function recordRefundHint(c: Context<AppEnv>): Promise<Response> {
  if (c.var.config.portone.secrets.length === 0) {
    log("error", "refund refused: PORTONE_SECRET_KEY is not configured", { route: c.req.path });
    throw httpError(503, "not_configured", "The gateway has no PortOne secret configured; nothing was accepted.");
  }
  const parsed = parseRefundHint(c.var.rawBody);
  if (!parsed.ok) {
    const { reason, detail } = parsed.error;
    log("warn", "refund webhook rejected", { route: c.req.path, reason, detail });
    throw rejectionError(reason);
  }
  const hint = parsed.value;
  if ("signature_hash" in hint.payload) {
    // PortOne documents no refund signature; if one appears its signed fields are unknown (§4.4).
    log("warn", "refund webhook carries a signature_hash; its scheme is unknown, so it is ignored", {
      refund_id: hint.refundId,
    });
  }
  const payment = ledgerOf(c.env, objectNameOf("portone", "payment", hint.paymentTxnRef));
  const ids = { route: c.req.path, kind: "refund", object_ref: hint.refundId, payment_txn_ref: hint.paymentTxnRef };
  let result: "accepted" | "duplicate" | "limited";
  try {
    result = await payment.recordRefundHint({
      eventId: await eventIdOf("portone", "refund_hint", refundHintIdentity(hint)),
      refundId: hint.refundId,
      paymentTxnRef: hint.paymentTxnRef,
      status: hint.status,
      payload: JSON.stringify(hint.payload),
      receivedAt: new Date(clock.now()).toISOString(),
    });
  } catch (err) {
    log("error", "ledger unavailable; refund hint not acknowledged", {
      ...ids,
      error: errorText(err),
    });
    throw httpError(
      503,
      "storage_unavailable",
      "The event could not be stored; retry later. Nothing was acknowledged.",
    );
  }
  if (result === "limited") {
    log("warn", "refund hint not kept: its payment holds as many refund hints as it may", ids);
    throw httpError(
      429,
      "refund_hint_limit",
      "This payment already holds as many refund hints as the gateway keeps; nothing was stored.",
    );
  }
  log("info", `refund hint ${result}; confirming with PortOne's API`, { ...ids, result });
  return c.json({ result });
}
