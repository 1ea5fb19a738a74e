// PortOne's routes: POST /webhooks/portone/<kind> (payment, payment-link, subscription-link), each body
// verified against every configured key, and POST /webhooks/portone/refund, which carries no signature
// (spec §4.4): its body is only shape-checked and kept as a hint, confirmed later with PortOne's API
// by the refunded payment's ledger; only the API's answer is ever forwarded. Without a secret both
// fail closed (503, so PortOne retries once the merchant sets it).

import type { Context } from "hono";
import type { AppEnv } from "../env";
import { hmacKeyFromText, sha256Hex } from "../lib/hmac";
import { httpError, notConfigured } from "../lib/http-errors";
import { log } from "../lib/log";
import { ok, type Result } from "../lib/result";
import { SIGNED_KINDS } from "../providers/portone/kinds";
import { parseRefundHint } from "../providers/portone/refund";
import { verifyPortOne } from "../providers/portone/verify";
import type { Rejection } from "../providers/types";
import type { Proven, Verify } from "../providers/proven";

/** The verifier of /webhooks/portone/<name>; throws for an unknown kind or a missing secret. */
export function portOneVerifier(c: Context<AppEnv>, name: string): Verify {
  const refund = name === "refund";
  const kind = SIGNED_KINDS.get(name);
  if (!refund && kind === undefined) {
    throw httpError(
      400,
      "unknown_kind",
      "Unknown PortOne webhook kind; use payment, payment-link, subscription-link or refund.",
    );
  }
  const secrets = c.var.config.portone.secrets;
  if (secrets.length === 0) {
    throw notConfigured("The gateway has no PortOne secret configured; nothing was accepted.", {
      message: "webhook refused: PORTONE_SECRET_KEY is not configured",
      fields: { route: c.req.path },
    });
  }
  if (kind === undefined) return verifyRefundHint;
  return async (raw) => {
    const verdict = await verifyPortOne(raw, kind, await Promise.all(secrets.map(hmacKeyFromText)));
    if (!verdict.ok) return verdict;
    return ok({ items: [{ event: verdict.value, contentHash: await sha256Hex(raw) }], answer: null });
  };
}

const verifyRefundHint: Verify = (raw) => Promise.resolve(refundHintOf(raw));

function refundHintOf(raw: string): Result<Proven, Rejection> {
  const parsed = parseRefundHint(raw);
  if (!parsed.ok) return parsed;
  if ("signature_hash" in parsed.value.payload) {
    // PortOne documents no refund signature; if one appears its signed fields are unknown (§4.4).
    log("warn", "refund webhook carries a signature_hash; its scheme is unknown, so it is ignored", {
      refund_id: parsed.value.refundId,
    });
  }
  return ok({ items: [{ refundHint: parsed.value }], answer: null });
}
