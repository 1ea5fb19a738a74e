// Event identity for deduplication. PortOne sends no event id (spec §9.8), and a signature alone
// does not name an event: two subscription notifications may share every signed field (§6.3).
// So an event is named by a hash of its whole parsed payload, keys sorted: a byte-identical
// redelivery, or one that differs only in whitespace, key order or number spelling (500 vs 500.0),
// gets the same id; any difference in any field gives another.

import { sha256Hex } from "../crypto/hmac";

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
