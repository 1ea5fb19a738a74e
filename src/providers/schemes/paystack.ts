// Paystack (https://paystack.com/docs/payments/webhooks/#verify-event-origin): `x-paystack-signature`,
// the hex HMAC-SHA512, keyed with the secret key as text, of the raw body. No timestamp is signed, so an
// exact replay is only ever a duplicate: the event id is a hash of the body. The object is
// `data.reference`, its status `data.status`, the type `paystack.<event>` (charge.success).

import { reject } from "../types";
import { anySecretSigns, recordAt, textKey, textOf, wholeBodyItem, type Scheme } from "./scheme";

const sha512Key = textKey("SHA-512");

export const paystack: Scheme = {
  name: "paystack",
  signedHeaders: ["x-paystack-signature"],
  toleranceSeconds: null,
  async verify(input) {
    const signature = input.headers.get("x-paystack-signature")?.trim();
    if (!signature) return reject("missing_signature", "x-paystack-signature is missing");
    if (!(await anySecretSigns(input.secrets, input.raw, [signature.toLowerCase()], "hex", sha512Key)))
      return reject("bad_signature", "x-paystack-signature matches no secret of this source");
    return wholeBodyItem(input.raw, (body) => {
      const data = recordAt(body, "data");
      const event = textOf(body, "event");
      return {
        id: null,
        objectRef: textOf(data, "reference"),
        kind: "payment",
        status: textOf(data, "status"),
        ...(event === null ? {} : { type: `paystack.${event}` }),
      };
    });
  },
};
