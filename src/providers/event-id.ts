// Event identity for what is proven whole: a generic source's signed body, a Standard Webhooks
// webhook-id, an answer of PortOne's API. The value is hashed with keys sorted, so a redelivery
// that differs only in whitespace, key order or number spelling (500 vs 500.0) gets the same id.
// Never hash more than a signature covers: whatever is hashed, an attacker could vary to mint new
// events. PortOne's signed webhooks are named by their signed fields alone (portone/signed-content.ts).

import { sha256Hex } from "../lib/hmac";

/** JSON with object keys sorted at every level; the payload's nesting depth is bounded upstream. */
export function stableStringify(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const record = value as Record<string, unknown>;
    const members = Object.keys(record)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${stableStringify(record[key])}`);
    return `{${members.join(",")}}`;
  }
  return JSON.stringify(value);
}

/** `evt_` + 128 bits of SHA-256 over the provider, the kind and the sorted payload. */
export async function eventIdOf(provider: string, kind: string, payload: unknown): Promise<string> {
  const digest = await sha256Hex(`${provider}.${kind}\n${stableStringify(payload)}`);
  return `evt_${digest.slice(0, 32)}`;
}
