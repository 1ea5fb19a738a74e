// Stripe (https://docs.stripe.com/webhooks#verify-manually; the referee is the `stripe` package's
// Webhooks.js, signature.verifyHeader): `Stripe-Signature: t=<unix>,v1=<hex>[,v1=<hex>…]`, each v1 a
// hex HMAC-SHA256 of `<t>.<raw body>` keyed with the endpoint secret as text (`whsec_…` included).
// Any v1 may match (Stripe sends several while secrets roll); `t` must not be older than the
// tolerance (300 s, the SDK's DEFAULT_TOLERANCE). As in the SDK, a timestamp in the future is not
// refused, and the signatures are checked before the age.
// The event: `id` (evt_…), the object `data.object` (its `id` and `object`), the type `type`.

import { reject } from "../types";
import { anySecretSigns, headerPairs, recordAt, staleness, textOf, wholeBodyItem, type Scheme } from "./scheme";

export const stripe: Scheme = {
  name: "stripe",
  signedHeaders: ["stripe-signature"],
  toleranceSeconds: 300,
  async verify(input) {
    const header = input.headers.get("stripe-signature");
    if (header === null || header.trim() === "") return reject("missing_signature", "Stripe-Signature is missing");
    const pairs = headerPairs(header, ",");
    const t = pairs.find(([k]) => k === "t")?.[1];
    const signatures = pairs.filter(([k, v]) => k === "v1" && v !== "").map(([, v]) => v);
    if (t === undefined || !/^\d{1,12}$/.test(t)) return reject("missing_timestamp", "Stripe-Signature has no t=");
    if (signatures.length === 0) return reject("missing_signature", "Stripe-Signature has no v1=");
    if (!(await anySecretSigns(input.secrets, `${t}.${input.raw}`, signatures, "hex")))
      return reject("bad_signature", "no v1 signature matches a secret of this source");
    const late = staleness(Number(t), input, { future: false });
    if (late) return late;
    return wholeBodyItem(input.raw, (body) => {
      const object = recordAt(body, "data.object");
      return {
        id: textOf(body, "id"),
        objectRef: textOf(object, "id"),
        kind: textOf(object, "object") ?? "event",
        status: textOf(body, "type"),
      };
    });
  },
};
