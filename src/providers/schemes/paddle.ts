// Paddle Billing (https://developer.paddle.com/webhooks/signature-verification; the referee is
// `@paddle/paddle-node-sdk`'s WebhooksValidator): `Paddle-Signature: ts=<unix>;h1=<hex>`, h1 the hex
// HMAC-SHA256 of `<ts>:<raw body>` keyed with the endpoint's secret key as text. The SDK refuses a
// `ts` more than 5 s old, in milliseconds (now > (ts + MAX_VALID_TIME_DIFFERENCE) * 1000: 5.9 s is
// stale), and takes the last `ts` and `h1` of the header, so this does too (Paddle's docs speak of several h1 during a secret rotation: the SDK wins).
// The event: `event_id`, `event_type` (transaction.completed, whose first part is the kind), `data.id`.

import { reject } from "../types";
import { anySecretSigns, headerPairs, recordAt, staleness, textOf, wholeBodyItem, type Scheme } from "./scheme";

export const paddle: Scheme = {
  name: "paddle",
  signedHeaders: ["paddle-signature"],
  toleranceSeconds: 5,
  async verify(input) {
    const header = input.headers.get("paddle-signature");
    if (header === null || header.trim() === "") return reject("missing_signature", "Paddle-Signature is missing");
    const pairs = headerPairs(header, ";").filter(([, v]) => v !== "");
    const ts = pairs.findLast(([k]) => k === "ts")?.[1];
    const h1 = pairs.findLast(([k]) => k === "h1")?.[1];
    if (ts === undefined || !/^\d{1,12}$/.test(ts)) return reject("missing_timestamp", "Paddle-Signature has no ts=");
    if (h1 === undefined) return reject("missing_signature", "Paddle-Signature has no h1=");
    const late = staleness(Number(ts), input, { future: false, milliseconds: true });
    if (late) return late;
    if (!(await anySecretSigns(input.secrets, `${ts}:${input.raw}`, [h1], "hex")))
      return reject("bad_signature", "h1 does not match a secret of this source");
    return wholeBodyItem(input.raw, (body) => {
      const type = textOf(body, "event_type");
      return {
        id: textOf(body, "event_id"),
        objectRef: textOf(recordAt(body, "data"), "id"),
        kind: type?.split(".")[0] ?? "event",
        status: type,
      };
    });
  },
};
