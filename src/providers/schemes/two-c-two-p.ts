// 2C2P (https://developer.2c2p.com/docs/payment-response-backend-api, "Backend notification"): the
// body is `{"payload": "<JWT>"}`, a JWT signed HS256 with the merchant's secret key (as text); its claims
// are the event. Verified by hono/jwt with HS256 as the only algorithm: `alg: none`, HS512 or anything
// else is refused as a bad signature, as is an expired or not-yet-valid token. The event id is a hash of
// the JWT, the object `invoiceNo`, its status `respCode`, the type `2c2p.payment.<respCode>`.

import { verify } from "hono/jwt";
import { anyMatch, sha256Hex } from "../../lib/hmac";
import { ok } from "../../lib/result";
import { parseJsonObject } from "../json-scan";
import { reject } from "../types";
import { textOf, type Scheme } from "./scheme";

export const twoCTwoP: Scheme = {
  name: "2c2p",
  signedHeaders: [],
  toleranceSeconds: null,
  async verify(input) {
    const parsed = parseJsonObject(input.raw);
    if (!parsed.ok) return parsed;
    const token = parsed.value.object.payload;
    if (typeof token !== "string" || token === "") return reject("missing_signature", "the body has no payload JWT");
    let claims: Record<string, unknown> | null = null;
    const signs = async (secret: string): Promise<boolean> => {
      try {
        claims = await verify(token, secret, { alg: "HS256" });
        return true;
      } catch {
        return false;
      }
    };
    if (!(await anyMatch(input.secrets, signs)) || claims === null)
      return reject("bad_signature", "the payload is not a JWT signed HS256 with a secret of this source");
    const status = textOf(claims, "respCode");
    return ok([
      {
        id: await sha256Hex(token),
        objectRef: textOf(claims, "invoiceNo"),
        kind: "payment",
        status,
        data: claims,
        unverified: null,
        ...(status === null ? {} : { type: `2c2p.payment.${status}` }),
      },
    ]);
  },
};
