// Signs a payload exactly as PortOne does (spec §2.2), with the same canonical form the verifier
// checks. Used by the tests' fixtures and by tools that send sample webhooks; the Worker itself
// never signs PortOne payloads.

import { hmacKeyFromText, hmacSign, toBase64 } from "../../lib/hmac";
import type { PortOneKind } from "./kinds";
import { canonicalMessage } from "./verify";

export async function signPortOne(
  payload: Record<string, unknown>,
  kind: PortOneKind,
  secret: string,
): Promise<string> {
  const canonical = canonicalMessage(payload, kind);
  if (!canonical.ok) throw new TypeError(`cannot sign: ${canonical.error.detail}`);
  return toBase64(await hmacSign(await hmacKeyFromText(secret), canonical.value));
}

/** The payload with a fresh signature_hash. */
export async function withSignature(
  payload: Record<string, unknown>,
  kind: PortOneKind,
  secret: string,
): Promise<Record<string, unknown>> {
  return { ...payload, signature_hash: await signPortOne(payload, kind, secret) };
}
