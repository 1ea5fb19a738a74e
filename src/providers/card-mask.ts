// Full card numbers are never stored or forwarded: what an API-confirmed provider sends or answers
// (Midtrans, Payment Options) has every `number` field inside a `card` object masked before it is kept,
// each digit but the last four replaced by `*` (5200000000001005 becomes ************1005).

/** The number with every digit but the last four masked (separators kept). */
export function maskCardNumber(number: string): string {
  let keep = 4;
  const chars = [...number];
  for (let i = chars.length - 1; i >= 0; i--) {
    if (!/\d/.test(chars[i] ?? "")) continue;
    if (keep > 0) keep -= 1;
    else chars[i] = "*";
  }
  return chars.join("");
}

/** A copy of a JSON value with every card object's `number` masked, however deep. */
export function maskCards(value: unknown, inCard = false): unknown {
  if (Array.isArray(value)) return value.map((v) => maskCards(v));
  if (value === null || typeof value !== "object") return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    if (inCard && key === "number" && (typeof v === "string" || typeof v === "number"))
      out[key] = maskCardNumber(String(v));
    else
      out[key] = maskCards(v, key.toLowerCase() === "card" && v !== null && typeof v === "object" && !Array.isArray(v));
  }
  return out;
}
