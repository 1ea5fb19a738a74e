// Payment Options (https://docs.paymentoptions.com, "Webhook handler"): it publishes no signature. The
// merchant puts a secret token in each transaction's `webhook_url` (POST
// /webhooks/payment-options/<source>/<token>, the token being the source's `secret`, at least 32
// characters), compared in constant time: it proves who may send, not what was sent. So the body is a
// hint: the transaction is confirmed with Payment Options' transaction-status API
// (ledger/confirmers.ts), and only that answer is forwarded. The same body again is a duplicate.

import { anyMatch, secretMatches } from "../../lib/hmac";
import { ok } from "../../lib/result";
import { parseJsonObject } from "../json-scan";
import { reject } from "../types";
import { recordAt, textOf, type Scheme } from "./scheme";

/** The shortest token accepted in a webhook_url. */
export const MIN_TOKEN_CHARS = 32;

/** A status as the gateway names it: `<transaction_type lower-case>.<succeeded | failed>`. */
export function paymentOptionsStatus(body: Record<string, unknown>): string | null {
  const type = textOf(body, "transaction_type");
  const success = body.success;
  if (type === null || typeof success !== "boolean") return null;
  return `${type.toLowerCase()}.${success ? "succeeded" : "failed"}`;
}

export const paymentOptions: Scheme = {
  name: "payment-options",
  signedHeaders: [],
  toleranceSeconds: null,
  config: {
    secret: { valid: (s) => s.length >= MIN_TOKEN_CHARS, what: `a token of at least ${MIN_TOKEN_CHARS} characters` },
    options: ["apiBaseUrl", "apiKey"],
    required: ["apiBaseUrl", "apiKey"],
    pathToken: true,
  },
  async verify(input) {
    const token = input.pathToken ?? "";
    if (token === "") return reject("missing_signature", "the webhook_url carries no token");
    if (!(await anyMatch(input.secrets, (secret) => secretMatches(token, secret))))
      return reject("bad_signature", "the webhook_url's token is not this source's");
    const parsed = parseJsonObject(input.raw);
    if (!parsed.ok) return parsed;
    const body = parsed.value.object;
    const id =
      textOf(recordAt(body, "transaction_details"), "id") ?? textOf(body, "transaction_id") ?? textOf(body, "id");
    if (id === null) return reject("missing_object_ref", "no transaction_details.id, transaction_id or id");
    const claimed = paymentOptionsStatus(body);
    return ok([
      {
        id: null,
        objectRef: id,
        kind: "payment",
        status: claimed ?? "notified",
        data: body,
        unverified: null,
        confirm: { by: "payment-options", subject: id, claimed },
      },
    ]);
  },
};
