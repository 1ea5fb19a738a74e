// Coinbase Commerce (https://docs.cdp.coinbase.com/commerce/docs/webhooks-security; the referee is
// the `coinbase-commerce-node` package's Webhook.verifySigHeader): `X-CC-Webhook-Signature` is the
// hex HMAC-SHA256 of the raw body keyed with the shared secret as text. No timestamp is signed.
// The event is `event` in the body: its `id`, `type` (charge:confirmed) and the charge it is about,
// `event.data` (its `code`, and `resource`, the object's kind).

import { reject } from "../types";
import { anySecretSigns, recordAt, textOf, wholeBodyItem, type Scheme } from "./scheme";

export const coinbaseCommerce: Scheme = {
  name: "coinbase-commerce",
  signedHeaders: ["x-cc-webhook-signature"],
  toleranceSeconds: null,
  async verify(input) {
    const signature = input.headers.get("x-cc-webhook-signature");
    if (signature === null || signature.trim() === "")
      return reject("missing_signature", "X-CC-Webhook-Signature is missing");
    if (!(await anySecretSigns(input.secrets, input.raw, [signature.trim()], "hex")))
      return reject("bad_signature", "X-CC-Webhook-Signature does not match a secret of this source");
    return wholeBodyItem(input.raw, (body) => {
      const event = recordAt(body, "event");
      const charge = recordAt(body, "event.data");
      return {
        id: textOf(event, "id"),
        objectRef: textOf(charge, "code"),
        kind: textOf(charge, "resource") ?? "event",
        status: textOf(event, "type"),
      };
    });
  },
};
