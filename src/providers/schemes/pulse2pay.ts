// Pulse2Pay (the crypto gateway of the seed documents; its glossary is the rule): `X-Pulse2Pay-Signature`,
// the hex HMAC-SHA256, keyed with the secret as text, of `<X-Pulse2Pay-Timestamp>.<raw body>`; the
// timestamp is in milliseconds, within the tolerance either way. The event id is `id` (else what is
// proven), the object `payment.id` (else `data.id`), its status `payment.status` (else `data.status`),
// the type `pulse2pay.<event>`; a payment is PENDING, then CONFIRMED, EXPIRED or FAILED for good.

import { reject } from "../types";
import { anySecretSigns, recordAt, staleness, textOf, timestampOf, wholeBodyItem, type Scheme } from "./scheme";

export const pulse2pay: Scheme = {
  name: "pulse2pay",
  signedHeaders: ["x-pulse2pay-signature", "x-pulse2pay-timestamp"],
  toleranceSeconds: 300,
  lifecycle: { ranks: { pending: 0 }, terminal: ["confirmed", "expired", "failed"] },
  async verify(input) {
    const signature = input.headers.get("x-pulse2pay-signature")?.trim();
    if (!signature) return reject("missing_signature", "X-Pulse2Pay-Signature is missing");
    const timestamp = timestampOf(input.headers.get("x-pulse2pay-timestamp"), "ms");
    if (timestamp === null) return reject("missing_timestamp", "X-Pulse2Pay-Timestamp is missing or not milliseconds");
    const late = staleness(timestamp, input, { future: true, unit: "ms" });
    if (late) return late;
    if (!(await anySecretSigns(input.secrets, `${timestamp}.${input.raw}`, [signature.toLowerCase()], "hex")))
      return reject("bad_signature", "X-Pulse2Pay-Signature matches no secret of this source");
    return wholeBodyItem(input.raw, (body) => {
      const payment = recordAt(body, "payment") ?? recordAt(body, "data");
      const event = textOf(body, "event");
      return {
        id: textOf(body, "id"),
        objectRef: textOf(payment, "id"),
        kind: "payment",
        status: textOf(payment, "status"),
        ...(event === null ? {} : { type: `pulse2pay.${event}` }),
      };
    });
  },
};
