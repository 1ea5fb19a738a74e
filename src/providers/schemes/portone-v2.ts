// PortOne V2, portone.io (https://developers.portone.io/opi/ko/integration/webhook/readme-v2; the
// referee is `@portone/server-sdk`'s Webhook.verify): Standard Webhooks (lib/standard-webhooks.ts'
// verifier, the one the gateway signs with), headers `webhook-id`,
// `webhook-timestamp`, `webhook-signature` (space-separated `v1,<base64>`), each a base64
// HMAC-SHA256 of `<id>.<timestamp>.<raw body>` keyed with the secret's base64-decoded bytes, the
// secret given with or without its `whsec_` prefix (as the SDK takes it). The timestamp must be
// within 300 s either way (the SDK's TIMESTAMP_TOO_OLD and TIMESTAMP_TOO_NEW).
// The event id is `webhook-id`; the object `data.paymentId` (else `data.billingKey`); the type
// `type`, its case kept (Transaction.Paid).

import { hmacKey } from "../../lib/hmac";
import { verifyStandardHeaders } from "../../lib/standard-webhooks";
import { recordAt, textOf, wholeBodyItem, type Scheme } from "./scheme";

/** The secret's key bytes: base64 after an optional whsec_; null when it is not base64. */
export function portOneV2SecretBytes(secret: string): Uint8Array | null {
  try {
    const bytes = Uint8Array.from(atob(secret.startsWith("whsec_") ? secret.slice(6) : secret), (c) => c.charCodeAt(0));
    return bytes.byteLength > 0 ? bytes : null;
  } catch {
    return null;
  }
}

const keyOf = (secret: string): Promise<CryptoKey> =>
  hmacKey(`portone-v2:${secret}`, () => portOneV2SecretBytes(secret) ?? new Uint8Array(32));

export const portOneV2: Scheme = {
  name: "portone-v2",
  signedHeaders: ["webhook-id", "webhook-timestamp", "webhook-signature"],
  toleranceSeconds: 300,
  config: {
    secret: {
      valid: (s) => portOneV2SecretBytes(s) !== null,
      what: "PortOne V2's webhook secret, base64 with or without whsec_",
    },
  },
  async verify(input) {
    const keys = await Promise.all(input.secrets.map(keyOf));
    const proven = await verifyStandardHeaders(input.headers, input.raw, keys, input.toleranceSeconds, input.nowMs);
    if (!proven.ok) return proven;
    const { id } = proven.value;
    return wholeBodyItem(input.raw, (body) => {
      const data = recordAt(body, "data");
      const paymentId = textOf(data, "paymentId");
      const billingKey = textOf(data, "billingKey");
      return {
        id,
        objectRef: paymentId ?? billingKey,
        kind: paymentId !== null ? "payment" : billingKey !== null ? "billing_key" : "event",
        status: textOf(body, "type"),
      };
    });
  },
};
