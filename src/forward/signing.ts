// Standard Webhooks signatures for what the gateway forwards (standardwebhooks.com):
// webhook-signature = "v1," + base64(HMAC-SHA256(secret, "<webhook-id>.<webhook-timestamp>.<body>")),
// where the secret is the base64 part of "whsec_<base64>".

import { hmacKey, hmacSha256, toBase64 } from "../crypto/hmac";

const PREFIX = "whsec_";

/** The signing key, or null when the secret is not a whsec_ secret of valid base64. */
export async function forwardSigningKey(secret: string | undefined): Promise<CryptoKey | null> {
  if (typeof secret !== "string") return null;
  const encoded = secret.trim().startsWith(PREFIX) ? secret.trim().slice(PREFIX.length) : secret.trim();
  let bytes: Uint8Array;
  try {
    bytes = Uint8Array.from(atob(encoded), (c) => c.charCodeAt(0));
  } catch {
    return null;
  }
  if (bytes.byteLength < 16) return null;
  return hmacKey(`whsec:${encoded}`, () => bytes);
}

export async function signStandardWebhook(
  key: CryptoKey,
  id: string,
  timestamp: number,
  body: string,
): Promise<string> {
  return `v1,${toBase64(await hmacSha256(key, `${id}.${timestamp}.${body}`))}`;
}
