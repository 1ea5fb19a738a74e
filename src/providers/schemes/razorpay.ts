// Razorpay (https://razorpay.com/docs/webhooks/validate-test/; the referee is the `razorpay`
// package's validateWebhookSignature): `X-Razorpay-Signature` is the hex HMAC-SHA256 of the raw
// body keyed with the webhook secret as text. No timestamp is signed: a replay is made harmless by
// deduplication, so the event's identity is what the signature covers, the body (its hash). The
// `x-razorpay-event-id` header (Razorpay's idempotency key) is not signed: the same captured body with
// a new header value would otherwise be a new event, forwarded again, forever. It is only logged.
// The object is the first entity under `payload` among payment, refund, order, subscription,
// payment_link, invoice; the type is `event` (payment.captured).

import { reject } from "../types";
import { anySecretSigns, recordAt, textOf, wholeBodyItem, type Scheme } from "./scheme";

const ENTITIES = ["payment", "refund", "order", "subscription", "payment_link", "invoice"] as const;

export const razorpay: Scheme = {
  name: "razorpay",
  signedHeaders: ["x-razorpay-signature"],
  toleranceSeconds: null,
  async verify(input) {
    const signature = input.headers.get("x-razorpay-signature");
    if (signature === null || signature.trim() === "")
      return reject("missing_signature", "X-Razorpay-Signature is missing");
    if (!(await anySecretSigns(input.secrets, input.raw, [signature.trim()], "hex")))
      return reject("bad_signature", "X-Razorpay-Signature does not match a secret of this source");
    const deliveryId = input.headers.get("x-razorpay-event-id")?.trim().slice(0, 128);
    return wholeBodyItem(input.raw, (body) => {
      const entity = ENTITIES.find((name) => recordAt(body, `payload.${name}.entity`) !== null);
      return {
        id: null,
        ...(deliveryId ? { deliveryId } : {}),
        objectRef: entity === undefined ? null : textOf(recordAt(body, `payload.${entity}.entity`), "id"),
        kind: entity ?? "event",
        status: textOf(body, "event"),
      };
    });
  },
};
