// IPv4 and IPv6 addresses and CIDR ranges, parsed strictly, matched as integers (BigInt for
// IPv6). Addresses and ranges are normalised the same way: an IPv4-mapped IPv6 address
// (::ffff:203.0.113.7) is the IPv4 address, and an IPv4-mapped range of /96 or longer
// (::ffff:203.0.113.0/120) is the IPv4 range (/24), since a dual-stack edge may report either form
// for the same client and an allowlist may be written in either. A shorter IPv6 range (::/0) is
// IPv6 only, as an operator who writes it means.

export interface CidrRange {
  readonly version: 4 | 6;
  readonly network: bigint;
  readonly prefix: number;
}

export interface ParsedIp {
  readonly version: 4 | 6;
  readonly value: bigint;
}

const IPV4_MAPPED_PREFIX = 0xffffn << 32n;
/** Bits before the IPv4 address in an IPv4-mapped IPv6 address. */
const MAPPED_BITS = 96;

export function parseIp(text: string): ParsedIp | null {
  const s = text.trim();
  if (s.includes(":")) {
    const value = parseIpv6(s);
    if (value === null) return null;
    if (value >> 32n === 0xffffn) return { version: 4, value: value - IPV4_MAPPED_PREFIX };
    return { version: 6, value };
  }
  const value = parseIpv4(s);
  return value === null ? null : { version: 4, value };
}

/** "203.0.113.0/24", "2001:db8::/32", or a single address (a /32 or /128). */
export function parseCidr(text: string): CidrRange | null {
  const [address, prefixText, extra] = text.trim().split("/");
  if (address === undefined || extra !== undefined) return null;
  const ip = address.includes(":") ? parseIpv6(address) : parseIpv4(address);
  if (ip === null) return null;
  const version = address.includes(":") ? 6 : 4;
  const bits = version === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? bits : /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : NaN;
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > bits) return null;
  if (version === 6 && prefix >= MAPPED_BITS && ip >> 32n === 0xffffn) {
    return {
      version: 4,
      network: (ip - IPV4_MAPPED_PREFIX) & mask(prefix - MAPPED_BITS, 32),
      prefix: prefix - MAPPED_BITS,
    };
  }
  return { version, network: ip & mask(prefix, bits), prefix };
}

export function inRange(ip: ParsedIp, range: CidrRange): boolean {
  if (ip.version !== range.version) return false;
  const bits = range.version === 4 ? 32 : 128;
  return (ip.value & mask(range.prefix, bits)) === range.network;
}

function mask(prefix: number, bits: number): bigint {
  const all = (1n << BigInt(bits)) - 1n;
  return prefix === 0 ? 0n : (all >> BigInt(bits - prefix)) << BigInt(bits - prefix);
}

function parseIpv4(s: string): bigint | null {
  const parts = s.split(".");
  if (parts.length !== 4) return null;
  let value = 0n;
  for (const part of parts) {
    if (!/^(0|[1-9]\d{0,2})$/.test(part) || Number(part) > 255) return null;
    value = (value << 8n) | BigInt(part);
  }
  return value;
}

function parseIpv6(s: string): bigint | null {
  const zoneless = s.startsWith("[") && s.endsWith("]") ? s.slice(1, -1) : s;
  const halves = zoneless.split("::");
  if (halves.length > 2) return null;
  const groups = (half: string | undefined): string[] | null => {
    if (half === undefined || half === "") return [];
    const out: string[] = [];
    const pieces = half.split(":");
    for (let i = 0; i < pieces.length; i++) {
      const piece = pieces[i] as string;
      if (i === pieces.length - 1 && piece.includes(".")) {
        const v4 = parseIpv4(piece);
        if (v4 === null) return null;
        out.push((v4 >> 16n).toString(16), (v4 & 0xffffn).toString(16));
      } else if (/^[0-9a-fA-F]{1,4}$/.test(piece)) out.push(piece);
      else return null;
    }
    return out;
  };
  const head = groups(halves[0]);
  const tail = groups(halves[1]);
  if (head === null || tail === null) return null;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  const all = [...head, ...Array<string>(halves.length === 1 ? 0 : missing).fill("0"), ...tail];
  return all.reduce((acc, g) => (acc << 16n) | BigInt(`0x${g}`), 0n);
}
