// Square (https://developer.squareup.com/docs/webhooks/step3validate; the referee is the `square`
// package's WebhooksHelper.verifySignature): `x-square-hmacsha256-signature` is the base64
// HMAC-SHA256 of the notification URL, exactly as registered for the subscription, followed by the
// raw body, keyed with the subscription's signature key as text. No timestamp is signed.
// The URL is the source's `notificationUrl` (set it: behind a proxy the request's URL differs);
// without one, the URL this request was made to.
// The event: `event_id`, `type` (payment.updated), the object `data.id` of kind `data.type`.

import { reject } from "../types";
import { anySecretSigns, recordAt, textOf, wholeBodyItem, type Scheme } from "./scheme";

export const square: Scheme = {
  name: "square",
  signedHeaders: ["x-square-hmacsha256-signature"],
  toleranceSeconds: null,
  async verify(input) {
    const signature = input.headers.get("x-square-hmacsha256-signature");
    if (signature === null || signature.trim() === "")
      return reject("missing_signature", "x-square-hmacsha256-signature is missing");
    if (!(await anySecretSigns(input.secrets, input.url + input.raw, [signature.trim()], "base64")))
      return reject("bad_signature", "the signature does not match a key of this source and its notification URL");
    return wholeBodyItem(input.raw, (body) => {
      const data = recordAt(body, "data");
      return {
        id: textOf(body, "event_id"),
        objectRef: textOf(data, "id"),
        kind: textOf(data, "type") ?? "event",
        status: textOf(body, "type"),
      };
    });
  },
};
