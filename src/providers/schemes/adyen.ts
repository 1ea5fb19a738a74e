// Adyen standard webhooks (https://docs.adyen.com/development-resources/webhooks/verify-hmac-signatures;
// the referee is `@adyen/api-library`'s HmacValidator.validateHMAC): a body of
// `notificationItems[].NotificationRequestItem`, each carrying `additionalData.hmacSignature`, the
// base64 HMAC-SHA256, keyed with the hex-decoded HMAC key, of
// `pspReference:originalReference:merchantAccountCode:merchantReference:value:currency:eventCode:success`
// (an absent value is empty). Every item must verify, or the whole batch is refused; Adyen expects
// `[accepted]` once all are stored. Those eight values are all an item's signature covers, so they
// are its `data`; the rest of the item travels as `unverified` (without the signature itself). No
// timestamp is signed. The values are joined by `:` unescaped, so a colon moved between two of them
// keeps the signature (Adyen's own HmacValidator accepts it): a merchantReference holding colons
// could be re-split into another pspReference or originalReference. The values Adyen generates
// (pspReference, originalReference, merchantAccountCode, currency, eventCode, success) never hold a
// colon: an item where one does is refused, and then the split is unique.
// Each item is its own event: pspReference + eventCode + success names it; its object is the
// payment (`originalReference` for a modification, else `pspReference`); its status `eventCode`.

import { parseJsonObject } from "../json-scan";
import { hmacKey } from "../../lib/hmac";
import { ok } from "../../lib/result";
import { reject } from "../types";
import { anySecretSigns, recordAt, textOf, type Scheme, type SchemeItem } from "./scheme";

const SIGNED = ["pspReference", "originalReference", "merchantAccountCode", "merchantReference"] as const;
/** The signed values Adyen generates itself: none may hold the `:` that joins them. */
const NO_COLON = ["pspReference", "originalReference", "merchantAccountCode", "eventCode", "success"] as const;
/** The most items one request may carry (Adyen sends one, at most a few). */
const MAX_ITEMS = 100;

/** The HMAC key's bytes: the hex key decoded; null when it is not hex. */
export function adyenKeyBytes(hex: string): Uint8Array | null {
  if (!/^([0-9a-fA-F]{2})+$/.test(hex)) return null;
  return Uint8Array.from(hex.match(/../g) ?? [], (h) => parseInt(h, 16));
}

const keyOf = (secret: string): Promise<CryptoKey> =>
  hmacKey(`adyen:${secret}`, () => adyenKeyBytes(secret) ?? new Uint8Array(32));

export const adyen: Scheme = {
  name: "adyen",
  signedHeaders: [],
  toleranceSeconds: null,
  batch: true,
  answer: "[accepted]",
  config: {
    secret: { valid: (s) => adyenKeyBytes(s) !== null, what: "the HMAC key in hex, as Adyen's Customer Area shows it" },
  },
  async verify(input) {
    const parsed = parseJsonObject(input.raw);
    if (!parsed.ok) return parsed;
    const list = parsed.value.object.notificationItems;
    if (!Array.isArray(list) || list.length === 0 || list.length > MAX_ITEMS)
      return reject("invalid_field_type", `notificationItems is not a list of 1 to ${MAX_ITEMS} items`);
    const items: SchemeItem[] = [];
    for (const [index, entry] of list.entries()) {
      const item = recordAt(entry, "NotificationRequestItem");
      if (item === null)
        return reject("invalid_field_type", `notificationItems[${index}] has no NotificationRequestItem`);
      const signature = textOf(recordAt(item, "additionalData"), "hmacSignature");
      if (signature === null) return reject("missing_signature", `item ${index} has no additionalData.hmacSignature`);
      const signed = signedValues(item);
      if (typeof signed === "string") return reject("invalid_field_type", `item ${index}: ${signed}`);
      if (!(await anySecretSigns(input.secrets, signed.message, [signature], "base64", keyOf)))
        return reject("bad_signature", `item ${index}'s hmacSignature does not match a key of this source`);
      items.push(signed.item);
    }
    return ok(items);
  },
};

/** The signed message and the item's event; what is wrong when a signed field is malformed. */
function signedValues(item: Record<string, unknown>): { message: string; item: SchemeItem } | string {
  const amount = recordAt(item, "amount");
  const value = amount?.value;
  const currency = amount?.currency;
  const { eventCode, success } = item;
  if (typeof value !== "number" || !Number.isInteger(value) || typeof currency !== "string")
    return "amount is not an integer value and a currency";
  if (typeof eventCode !== "string" || eventCode === "") return "eventCode is not a non-empty string";
  if (typeof success !== "string" && typeof success !== "boolean") return "success is not a string or boolean";
  const refs = SIGNED.map((key) => item[key]);
  if (!refs.every((ref) => ref === undefined || ref === null || typeof ref === "string"))
    return `${SIGNED.join(", ")} must be strings`;
  const colon = NO_COLON.find((key) => {
    const value = item[key];
    return typeof value === "string" && value.includes(":");
  });
  if (colon !== undefined || currency.includes(":"))
    return `${colon ?? "amount.currency"} holds a ':' (the signed values could be split otherwise)`;
  const text = (v: unknown): string => (typeof v === "string" ? v : "");
  const message = [...refs.map(text), String(value), currency, eventCode, String(success)].join(":");
  const data: Record<string, unknown> = { amount: { value, currency }, eventCode, success };
  for (const key of SIGNED) if (typeof item[key] === "string") data[key] = item[key];
  const unverified = Object.fromEntries(Object.entries(item).filter(([key]) => !(key in data)));
  // The signature is not a fact about the payment: it is left out, not forwarded as unverified.
  const additional = recordAt(item, "additionalData");
  if (additional !== null) {
    const { hmacSignature: _, ...rest } = additional;
    if (Object.keys(rest).length > 0) unverified.additionalData = rest;
    else delete unverified.additionalData;
  }
  const psp = textOf(item, "pspReference");
  return {
    message,
    item: {
      id: psp === null ? null : `${psp}:${eventCode}:${String(success)}`,
      objectRef: textOf(item, "originalReference") ?? psp,
      kind: "event",
      status: eventCode,
      data,
      unverified: Object.keys(unverified).length > 0 ? unverified : null,
    },
  };
}
