// HMAC (SHA-256, or SHA-512 where a provider uses it) with WebCrypto. Keys are imported once per secret
// and kept for the isolate's life: importKey costs more than the MAC of a short message, and secrets
// change only on deploy.
// Comparisons of MACs are constant-time (crypto.subtle.timingSafeEqual) so a forger learns nothing
// from how long a rejection takes.

const utf8 = new TextEncoder();
const keyCache = new Map<string, Promise<CryptoKey>>();
/** Bounds the cache if a caller ever derives keys from input; real deployments hold a handful. */
const MAX_CACHED_KEYS = 64;

/** The HMAC-SHA256 key for a secret given as text (its UTF-8 bytes are the key; never hex-decoded). */
export function hmacKeyFromText(secret: string): Promise<CryptoKey> {
  return hmacKey(`t:${secret}`, () => utf8.encode(secret));
}

/** The HMAC key (SHA-256 unless `hash` says SHA-512) for secret bytes, cached under a caller-chosen label. */
export function hmacKey(label: string, bytes: () => Uint8Array, hash: HmacHash = "SHA-256"): Promise<CryptoKey> {
  const cacheLabel = `${hash}:${label}`;
  let key = keyCache.get(cacheLabel);
  if (!key) {
    if (keyCache.size >= MAX_CACHED_KEYS) keyCache.clear();
    key = crypto.subtle.importKey("raw", bytes(), { name: "HMAC", hash }, false, ["sign"]);
    keyCache.set(cacheLabel, key);
    // A failed import must not poison the cache for later requests.
    key.catch(() => keyCache.delete(cacheLabel));
  }
  return key;
}

export type HmacHash = "SHA-256" | "SHA-512";

/** The MAC of a message under a key (its hash is the key's: hmacKey). */
export async function hmacSign(key: CryptoKey, message: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.sign("HMAC", key, utf8.encode(message)));
}

/** Standard base64 (A-Z a-z 0-9 + /) with = padding. */
export function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/** Base64url without padding (JWTs, RFC 7515). */
export function toBase64Url(bytes: Uint8Array): string {
  return toBase64(bytes).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export function toHex(bytes: Uint8Array): string {
  let out = "";
  for (const byte of bytes) out += byte.toString(16).padStart(2, "0");
  return out;
}

/** Constant-time equality of two strings' UTF-8 bytes (the length itself is not secret). */
export function timingSafeEqualText(a: string, b: string): boolean {
  return timingSafeEqualBytes(utf8.encode(a), utf8.encode(b));
}

/** Constant-time equality of two byte strings (the length itself is not secret). */
export function timingSafeEqualBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && crypto.subtle.timingSafeEqual(a, b);
}

/** Whether any candidate (a configured secret or key: a rotation overlaps old and new) matches. Every
 *  candidate is tried, none skipped after a match, each comparison constant-time in the caller, so how
 *  long the answer takes tells nothing of which one matched. The one such loop. */
export async function anyMatch<T>(
  candidates: readonly T[],
  matches: (candidate: T) => Promise<boolean> | boolean,
): Promise<boolean> {
  let matched = false;
  for (const candidate of candidates) if (await matches(candidate)) matched = true;
  return matched;
}

/** Whether a secret given with a request equals the configured one, compared as SHA-256 digests in
 *  constant time: neither the content nor the length of the secret shows in how long the answer takes. */
export async function secretMatches(given: string, secret: string): Promise<boolean> {
  const [a, b] = await Promise.all([digest(given), digest(secret)]);
  return crypto.subtle.timingSafeEqual(a, b);
}

async function digest(text: string, hash: HmacHash = "SHA-256"): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest(hash, utf8.encode(text)));
}

export async function sha256Hex(text: string): Promise<string> {
  return toHex(await digest(text));
}

/** A plain SHA-512 of a text, in hex (Midtrans's signature_key: a hash, not an HMAC). */
export async function sha512Hex(text: string): Promise<string> {
  return toHex(await digest(text, "SHA-512"));
}
