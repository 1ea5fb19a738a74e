// Go-compatible pieces of PortOne's canonical form (spec §2.3, §2.4).
// PortOne signs with Go's url.Values.Encode and strconv.FormatFloat(x,'f',-1,64). JavaScript's
// URLSearchParams differs on `~` and `*`, encodeURIComponent on space and !'()*, and String(x)
// switches to exponent form outside 1e-6 <= |x| < 1e21, so both are written here from Go's rules.

const HEX = "0123456789ABCDEF";
const utf8 = new TextEncoder();

/** The escaped form of each byte, as Go's url.QueryEscape writes it. */
const BYTE_ESCAPES: readonly string[] = Array.from({ length: 256 }, (_, byte) => {
  const ch = String.fromCharCode(byte);
  if (/^[A-Za-z0-9\-._~]$/.test(ch)) return ch;
  if (byte === 0x20) return "+";
  return `%${HEX[byte >> 4]}${HEX[byte & 15]}`;
});

/**
 * Go's url.QueryEscape: keeps A-Z a-z 0-9 - . _ ~, writes a space as +, and every other byte of
 * the UTF-8 encoding as upper-case %XX. Lone surrogates become U+FFFD, as Go's JSON decoder does.
 */
export function queryEscape(value: string): string {
  let plain = true;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c >= 0x80 || BYTE_ESCAPES[c] !== value[i]) {
      plain = false;
      break;
    }
  }
  if (plain) return value;
  let out = "";
  for (const byte of utf8.encode(value)) out += BYTE_ESCAPES[byte];
  return out;
}

/**
 * Go's strconv.FormatFloat(x, 'f', -1, 64): the shortest digits that read back to the same double,
 * in plain notation (never an exponent), no trailing zeros, "-0" for negative zero.
 * Both JavaScript and Go pick the same shortest digits; only the notation differs.
 */
export function formatAmount(x: number): string {
  if (!Number.isFinite(x)) throw new RangeError("amount must be a finite number");
  if (x === 0) return Object.is(x, -0) ? "-0" : "0";
  const shortest = String(x);
  const e = shortest.indexOf("e");
  if (e < 0) return shortest;
  return expandExponent(shortest.slice(0, e), Number(shortest.slice(e + 1)));
}

/** "1.5", -7 -> "0.00000015"; "1", 21 -> "1" followed by 21 zeros. */
function expandExponent(mantissa: string, exponent: number): string {
  const negative = mantissa.startsWith("-");
  const unsigned = negative ? mantissa.slice(1) : mantissa;
  const dot = unsigned.indexOf(".");
  const digits = dot < 0 ? unsigned : unsigned.slice(0, dot) + unsigned.slice(dot + 1);
  const pointAt = (dot < 0 ? unsigned.length : dot) + exponent;
  let plain: string;
  if (pointAt <= 0) plain = `0.${"0".repeat(-pointAt)}${digits}`;
  else if (pointAt >= digits.length) plain = digits + "0".repeat(pointAt - digits.length);
  else plain = `${digits.slice(0, pointAt)}.${digits.slice(pointAt)}`;
  return negative ? `-${plain}` : plain;
}

/** Go's url.Values.Encode for pairs whose keys are already sorted and need no escaping. */
export function encodePairs(pairs: ReadonlyArray<readonly [string, string]>): string {
  return pairs.map(([key, value]) => `${key}=${queryEscape(value)}`).join("&");
}
