// PayNet FPX's authorization confirmation (the direct AC message of PayNet's FPX merchant specification):
// an `application/x-www-form-urlencoded` POST whose `fpx_checkSum` is the upper-case hex RSA PKCS#1 v1.5
// SHA-1 signature of the 21 fields below, their values joined by `|` in this order (a missing field
// counts as empty), verified with FPX's X.509 certificate (the source's `certificate`, or `certificates`
// while FPX renews it yearly; a certificate outside its validity period proves nothing). FPX expects the
// plain answer `OK`. `data` holds the 21 fields (a missing one as ""), `unverified` the others without
// `fpx_checkSum`. The event id is `fpx_fpxTxnId` + `:` + `fpx_debitAuthCode`, the object
// `fpx_sellerOrderNo`, its status `fpx_debitAuthCode` (00 approved, 09 pending), the type
// `fpx.<fpx_msgType lower-case>` (fpx.ac).

import { anyMatch } from "../../lib/hmac";
import { ok } from "../../lib/result";
import { rsaSha1Verifies } from "../../lib/x509";
import { reject } from "../types";
import { FPX_SIGNED_FIELDS } from "./fpx-fields";
import { textOf, type Scheme } from "./scheme";

export const fpx: Scheme = {
  name: "fpx",
  signedHeaders: [],
  toleranceSeconds: null,
  answer: "OK",
  config: { secret: "none", options: ["certificates"], required: ["certificates"] },
  async verify(input) {
    const form = new URLSearchParams(input.raw);
    const fields = new Map<string, string>();
    for (const [name, value] of form) {
      if (fields.has(name)) return reject("duplicate_field", `${name} appears more than once`);
      fields.set(name, value);
    }
    const checkSum = fields.get("fpx_checkSum")?.trim() ?? "";
    if (checkSum === "") return reject("missing_signature", "fpx_checkSum is missing");
    if (!/^(?:[0-9A-Fa-f]{2})+$/.test(checkSum)) return reject("bad_signature", "fpx_checkSum is not hex");
    const signature = Uint8Array.from(checkSum.match(/../g) ?? [], (h) => parseInt(h, 16));
    const data = Object.fromEntries(FPX_SIGNED_FIELDS.map((f) => [f, fields.get(f) ?? ""]));
    const message = FPX_SIGNED_FIELDS.map((f) => data[f]).join("|");
    const signs = (certificate: (typeof input.options.certificates)[number]) =>
      rsaSha1Verifies(certificate, signature, message, input.nowMs);
    if (!(await anyMatch(input.options.certificates, signs)))
      return reject("bad_signature", "fpx_checkSum is not signed by a valid certificate of this source");
    const signed = new Set<string>([...FPX_SIGNED_FIELDS, "fpx_checkSum"]);
    const rest = Object.fromEntries([...fields].filter(([name]) => !signed.has(name)));
    const [txn, code, msgType] = [
      textOf(data, "fpx_fpxTxnId"),
      textOf(data, "fpx_debitAuthCode"),
      textOf(data, "fpx_msgType"),
    ];
    return ok([
      {
        id: txn !== null && code !== null ? `${txn}:${code}` : null,
        objectRef: textOf(data, "fpx_sellerOrderNo"),
        kind: "payment",
        status: code,
        data,
        unverified: Object.keys(rest).length > 0 ? rest : null,
        ...(msgType === null ? {} : { type: `fpx.${msgType.toLowerCase()}` }),
      },
    ]);
  },
};
