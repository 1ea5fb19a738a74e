// Omise / Opn Payments (https://docs.opn.ooo/api-webhooks, "Verifying webhook signatures"):
// `Omise-Signature`, the hex HMAC-SHA256 of `<Omise-Signature-Timestamp>.<raw body>` (seconds), keyed
// with the webhook secret base64-decoded (the secret as shown is base64, not the key itself); during a
// secret roll the header carries two comma-separated signatures, either of which may match. The event
// id is `id`, the object `data.id`, its status `data.status`, the type `omise.<key>` (charge.complete).

import { reject } from "../types";
import {
  anySecretSigns,
  base64Bytes,
  base64Key,
  recordAt,
  staleness,
  textOf,
  timestampOf,
  wholeBodyItem,
  type Scheme,
} from "./scheme";

export const omise: Scheme = {
  name: "omise",
  signedHeaders: ["omise-signature", "omise-signature-timestamp"],
  toleranceSeconds: 300,
  config: { secret: { valid: (s) => base64Bytes(s) !== null, what: "the webhook secret as Opn shows it (base64)" } },
  async verify(input) {
    const header = input.headers.get("omise-signature")?.trim();
    if (!header) return reject("missing_signature", "Omise-Signature is missing");
    const timestamp = timestampOf(input.headers.get("omise-signature-timestamp"));
    if (timestamp === null) return reject("missing_timestamp", "Omise-Signature-Timestamp is missing or not seconds");
    const late = staleness(timestamp, input, { future: true });
    if (late) return late;
    const offered = header.split(",").map((s) => s.trim().toLowerCase());
    if (!(await anySecretSigns(input.secrets, `${timestamp}.${input.raw}`, offered, "hex", base64Key)))
      return reject("bad_signature", "no Omise-Signature matches a secret of this source");
    return wholeBodyItem(input.raw, (body) => {
      const data = recordAt(body, "data");
      const key = textOf(body, "key");
      return {
        id: textOf(body, "id"),
        objectRef: textOf(data, "id"),
        kind: "payment",
        status: textOf(data, "status"),
        ...(key === null ? {} : { type: `omise.${key}` }),
      };
    });
  },
};
