// PayMongo (https://developers.paymongo.com/docs/creating-webhook, "Securing a webhook"):
// `Paymongo-Signature: t=<seconds>,te=<hex>,li=<hex>`, each the HMAC-SHA256, keyed with the webhook
// secret as text, of `<t>.<raw body>`; `li` is compared in live mode (the source's `mode`, default
// live) and `te` in test mode, never the other. The event id is `data.id`, the object
// `data.attributes.data.id`, its status `data.attributes.data.attributes.status`, the type
// `paymongo.<data.attributes.type>` (payment.paid).

import { reject } from "../types";
import {
  anySecretSigns,
  headerPairs,
  recordAt,
  staleness,
  textOf,
  timestampOf,
  wholeBodyItem,
  type Scheme,
} from "./scheme";

export const paymongo: Scheme = {
  name: "paymongo",
  signedHeaders: ["paymongo-signature"],
  toleranceSeconds: 300,
  config: { options: ["mode"] },
  async verify(input) {
    const header = input.headers.get("paymongo-signature");
    if (header === null || header.trim() === "") return reject("missing_signature", "Paymongo-Signature is missing");
    const pairs = headerPairs(header, ",");
    const timestamp = timestampOf(pairs.find(([k]) => k === "t")?.[1] ?? null);
    if (timestamp === null) return reject("missing_timestamp", "Paymongo-Signature has no t=");
    const field = input.options.mode === "test" ? "te" : "li";
    const offered = pairs.filter(([k, v]) => k === field && v !== "").map(([, v]) => v.toLowerCase());
    if (offered.length === 0)
      return reject("missing_signature", `Paymongo-Signature has no ${field}= (${input.options.mode} mode)`);
    const late = staleness(timestamp, input, { future: true });
    if (late) return late;
    if (!(await anySecretSigns(input.secrets, `${timestamp}.${input.raw}`, offered, "hex")))
      return reject("bad_signature", `Paymongo-Signature's ${field} matches no secret of this source`);
    return wholeBodyItem(input.raw, (body) => {
      const attributes = recordAt(body, "data.attributes");
      const resource = recordAt(attributes, "data");
      const type = textOf(attributes, "type");
      return {
        id: textOf(recordAt(body, "data"), "id"),
        objectRef: textOf(resource, "id"),
        kind: "payment",
        status: textOf(recordAt(resource, "attributes"), "status"),
        ...(type === null ? {} : { type: `paymongo.${type}` }),
      };
    });
  },
};
