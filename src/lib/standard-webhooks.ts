// Standard Webhooks (standardwebhooks.com), both ways: the gateway signs what it forwards and
// verifies what a `standard` source sends with the same code, so a secret the one accepts the
// other accepts too.
// webhook-signature = "v1," + base64(HMAC-SHA256(key, "<webhook-id>.<webhook-timestamp>.<body>")).
// A secret is written "whsec_" + base64 of the key bytes; like the reference libraries, the bare
// base64 is accepted too (the prefix is optional). Keys shorter than 16 bytes are refused: the
// spec's secrets are 24 to 64 bytes, and a short one is almost always a paste error.

import { hmacKey, hmacSha256, toBase64 } from "./hmac";

const PREFIX = "whsec_";
/** The shortest key accepted, in bytes. */
export const MIN_SECRET_BYTES = 16;

/** The key bytes of a whsec_ secret, or null when it is not base64 of at least MIN_SECRET_BYTES. */
export function parseStandardSecret(secret: string | undefined): Uint8Array | null {
  if (typeof secret !== "string") return null;
  const trimmed = secret.trim();
  const encoded = trimmed.startsWith(PREFIX) ? trimmed.slice(PREFIX.length) : trimmed;
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded)) return null;
  let bytes: Uint8Array;
  try {
    bytes = Uint8Array.from(atob(encoded), (c) => c.charCodeAt(0));
  } catch {
    return null;
  }
  return bytes.byteLength >= MIN_SECRET_BYTES ? bytes : null;
}

/** The HMAC key of a secret's bytes (from parseStandardSecret), imported once per secret. */
export function standardWebhookKey(bytes: Uint8Array): Promise<CryptoKey> {
  return hmacKey(`whsec:${toBase64(bytes)}`, () => bytes);
}

/** The base64 MAC of one message, without the "v1," prefix. */
export async function standardSignature(key: CryptoKey, id: string, timestamp: number, body: string): Promise<string> {
  return toBase64(await hmacSha256(key, `${id}.${timestamp}.${body}`));
}

/** The webhook-signature header value the gateway sends. */
export async function signStandardWebhook(
  key: CryptoKey,
  id: string,
  timestamp: number,
  body: string,
): Promise<string> {
  return `v1,${await standardSignature(key, id, timestamp, body)}`;
}
