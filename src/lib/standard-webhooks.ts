// Standard Webhooks (standardwebhooks.com), both ways and in one module: the gateway signs what it
// forwards and its alert notifications with the headers built here, and verifies what a `standard`
// source or PortOne V2 sends with the verifier here, so a secret the one accepts the other accepts too.
// webhook-signature = space-separated "v1," + base64(HMAC-SHA256(key, "<webhook-id>.<webhook-timestamp>.<body>")).
// A secret is written "whsec_" + base64 of the key bytes; like the reference libraries, the bare
// base64 is accepted too (the prefix is optional). Keys shorter than 16 bytes are refused: the
// spec's secrets are 24 to 64 bytes, and a short one is almost always a paste error.
// The timestamp is compared as the reference libraries do: whole seconds, as far late as early.

import { anyMatch, hmacKey, hmacSign, timingSafeEqualText, toBase64 } from "./hmac";
import { err, ok, type Result } from "./result";

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

async function signature(key: CryptoKey, id: string, timestamp: number | string, body: string): Promise<string> {
  return toBase64(await hmacSign(key, `${id}.${timestamp}.${body}`));
}

/** The three headers the gateway sends with a body it signs. */
export async function standardWebhookHeaders(
  key: CryptoKey,
  id: string,
  timestamp: number,
  body: string,
): Promise<Record<"webhook-id" | "webhook-timestamp" | "webhook-signature", string>> {
  return {
    "webhook-id": id,
    "webhook-timestamp": String(timestamp),
    "webhook-signature": `v1,${await signature(key, id, timestamp, body)}`,
  };
}

/** Why a request's Standard Webhooks headers prove nothing (the providers' reasons, by name). */
export interface StandardRefusal {
  readonly reason: "missing_signature" | "missing_timestamp" | "stale_timestamp" | "bad_signature";
  readonly detail: string;
}

/** The webhook-id and timestamp a request's headers prove for `body` under one of `keys`, or why not.
 *  `toleranceSeconds` null (no window) refuses every timestamp. */
export async function verifyStandardHeaders(
  headers: Headers,
  body: string,
  keys: readonly CryptoKey[],
  toleranceSeconds: number | null,
  nowMs: number,
): Promise<Result<{ readonly id: string; readonly timestamp: number }, StandardRefusal>> {
  const id = headers.get("webhook-id");
  const signatures = headers.get("webhook-signature");
  if (!id || !signatures) return refuse("missing_signature", "webhook-id or webhook-signature is missing");
  const stamp = headers.get("webhook-timestamp")?.trim() ?? "";
  if (!/^\d{1,12}$/.test(stamp))
    return refuse("missing_timestamp", "webhook-timestamp is missing or not whole seconds");
  const age = Math.floor(nowMs / 1000) - Number(stamp);
  if (toleranceSeconds === null || Math.abs(age) > toleranceSeconds)
    return refuse("stale_timestamp", `timestamp ${stamp} is ${age} s from now (tolerance ${toleranceSeconds} s)`);
  const offered = signatures
    .split(" ")
    .filter((s) => s.startsWith("v1,"))
    .map((s) => s.slice(3));
  const signs = async (key: CryptoKey): Promise<boolean> => {
    const expected = await signature(key, id, stamp, body);
    return anyMatch(offered, (candidate) => timingSafeEqualText(expected, candidate));
  };
  if (!(await anyMatch(keys, signs))) return refuse("bad_signature", "no v1 signature matches a secret");
  return ok({ id, timestamp: Number(stamp) });
}

function refuse(reason: StandardRefusal["reason"], detail: string): Result<never, StandardRefusal> {
  return err({ reason, detail });
}
