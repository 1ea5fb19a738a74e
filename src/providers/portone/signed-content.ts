// What a PortOne signature proves, and so what names an event (spec §3.2, §5.2, §6.2, §9.8).
// PortOne signs a handful of fields and sends no timestamp, nonce or event id. Everything else in
// the body can be changed by anyone who saw one genuine body (a log, a proxy, a support ticket),
// so it can neither name an event nor be forwarded as verified:
// - the identity is the kind plus the canonical message: the same signed fields with other
//   unsigned fields is the same event (a duplicate), whatever was added;
// - `data` holds the signed fields as they stood in the body, `unverified` everything else
//   (never signature_hash).
// Gives up: two genuine webhooks whose signed fields are all equal (a subscription's Active after
// each charge, §6.3) are one event. Charges are learned from PortOne's API instead.

import { sha256Hex } from "../../lib/hmac";
import type { PortOneKind } from "./kinds";

type Payload = Readonly<Record<string, unknown>>;

export interface SignedSplit {
  /** The signed fields, under the JSON names they had in the body. */
  readonly data: Record<string, unknown>;
  /** Every other field except signature_hash; null when there is none. */
  readonly unverified: Record<string, unknown> | null;
}

/** `evt_` + 128 bits of SHA-256 over the kind and the canonical (signed) message. */
export async function signedEventId(kind: PortOneKind, canonical: string): Promise<string> {
  return `evt_${(await sha256Hex(`portone.${kind.kind}\n${canonical}`)).slice(0, 32)}`;
}

/**
 * Splits a verified body. A signed field is read from the first of its names that is present and
 * not null (as the canonical form reads it); a signed field present only as null is signed as its
 * zero value, so that null is proven too. Every other key is unverified.
 */
export function splitSigned(payload: Payload, kind: PortOneKind): SignedSplit {
  const signedNames = new Set<string>();
  for (const field of kind.signed) {
    const used = field.from.find((n) => payload[n] !== undefined && payload[n] !== null);
    if (used !== undefined) signedNames.add(used);
    else for (const name of field.from) if (payload[name] === null) signedNames.add(name);
  }
  const data: Record<string, unknown> = {};
  const unverified: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(payload)) {
    if (signedNames.has(key)) data[key] = value;
    else if (key !== "signature_hash") unverified[key] = value;
  }
  return { data, unverified: Object.keys(unverified).length > 0 ? unverified : null };
}
