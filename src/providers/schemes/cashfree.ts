// Cashfree Payments (https://www.cashfree.com/docs/payments/online/webhooks/signature-verification;
// the referee is `cashfree-pg`'s PGVerifyWebhookSignature): `x-webhook-signature`, the base64
// HMAC-SHA256, keyed with the secret key as text, of `<x-webhook-timestamp><raw body>` with no
// separator; the timestamp is in milliseconds, and within the tolerance (which the SDK does not check).
// The event id is `data.payment.cf_payment_id` + `:` + `type` (else what is proven), the object
// `data.order.order_id`, its status `data.payment.payment_status`, the type `cashfree.<type>`, its
// case kept (cashfree.PAYMENT_SUCCESS_WEBHOOK).

import { reject } from "../types";
import { anySecretSigns, recordAt, staleness, textOf, timestampOf, wholeBodyItem, type Scheme } from "./scheme";

export const cashfree: Scheme = {
  name: "cashfree",
  signedHeaders: ["x-webhook-signature", "x-webhook-timestamp"],
  toleranceSeconds: 300,
  async verify(input) {
    const signature = input.headers.get("x-webhook-signature")?.trim();
    if (!signature) return reject("missing_signature", "x-webhook-signature is missing");
    const timestamp = timestampOf(input.headers.get("x-webhook-timestamp"), "ms");
    if (timestamp === null) return reject("missing_timestamp", "x-webhook-timestamp is missing or not milliseconds");
    const late = staleness(timestamp, input, { future: true, unit: "ms" });
    if (late) return late;
    if (!(await anySecretSigns(input.secrets, `${timestamp}${input.raw}`, [signature], "base64")))
      return reject("bad_signature", "x-webhook-signature matches no secret of this source");
    return wholeBodyItem(input.raw, (body) => {
      const payment = recordAt(body, "data.payment");
      const [paymentId, type] = [textOf(payment, "cf_payment_id"), textOf(body, "type")];
      return {
        id: paymentId !== null && type !== null ? `${paymentId}:${type}` : null,
        objectRef: textOf(recordAt(body, "data.order"), "order_id"),
        kind: "payment",
        status: textOf(payment, "payment_status"),
        ...(type === null ? {} : { type: `cashfree.${type}` }),
      };
    });
  },
};
