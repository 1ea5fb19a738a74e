// Midtrans (https://docs.midtrans.com/docs/https-notification-webhooks, "Verifying notification
// authenticity"): the body's `signature_key` is the hex SHA-512 (a hash, not an HMAC) of
// `order_id + status_code + gross_amount + <server key>`, the three as they appear in the body. It
// proves those three fields only, so the notification is a hint: the transaction is confirmed with
// Midtrans's status API (ledger/confirmers.ts), as Midtrans's own library does, and only that answer is
// forwarded. A repeated notification (same signature_key and transaction_status) is a duplicate.

import { anyMatch, sha512Hex, timingSafeEqualText } from "../../lib/hmac";
import { ok } from "../../lib/result";
import { parseJsonObject } from "../json-scan";
import { reject } from "../types";
import { textOf, type Scheme } from "./scheme";

export const MIDTRANS_API = "https://api.midtrans.com";

export const midtrans: Scheme = {
  name: "midtrans",
  signedHeaders: [],
  toleranceSeconds: null,
  config: { options: ["apiBaseUrl"] },
  async verify(input) {
    const parsed = parseJsonObject(input.raw);
    if (!parsed.ok) return parsed;
    const body = parsed.value.object;
    const signature = textOf(body, "signature_key")?.toLowerCase();
    if (signature === undefined) return reject("missing_signature", "signature_key is missing");
    // The three as they appear in the body: gross_amount "10000.00" is signed as written.
    const signed = ["order_id", "status_code", "gross_amount"].map((k) => body[k]);
    if (!signed.every((v) => typeof v === "string" || typeof v === "number"))
      return reject("invalid_field_type", "order_id, status_code and gross_amount must be strings or numbers");
    const prefix = signed.map(String).join("");
    const signs = async (key: string) => timingSafeEqualText(await sha512Hex(prefix + key), signature);
    if (!(await anyMatch(input.secrets, signs)))
      return reject(
        "bad_signature",
        "signature_key is not the SHA-512 of the notification with a server key of this source",
      );
    const [orderId, transactionId, status] = [
      textOf(body, "order_id"),
      textOf(body, "transaction_id"),
      textOf(body, "transaction_status"),
    ];
    return ok([
      {
        id: `${signature}:${status ?? ""}`,
        objectRef: orderId,
        kind: "payment",
        status,
        data: body,
        unverified: null,
        confirm: { by: "midtrans", subject: transactionId ?? orderId ?? "", claimed: status },
      },
    ]);
  },
};
