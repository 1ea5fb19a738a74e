// Calls to PortOne's API (spec §11): headers X-Portone-Client-Key and Authorization: Bearer <JWT>,
// the JWT HS256-signed with the PortOne Secret Key (text bytes), claims iss PORTONE, sub the key,
// iat now, exp iat + 100 s (a short-lived token per call, as the docs do).

import { hmacKeyFromText, hmacSha256, toBase64Url } from "../lib/hmac";
import type { PortOneConfig } from "../config";
import { err, errorText, ok, type Result } from "../lib/result";
import { fetchBounded, jsonOf, type OutboundLimits } from "../lib/outbound";

/** The docs' token lifetime, in seconds. */
const JWT_LIFETIME_SECONDS = 100;
/** PortOne's API has 10 s to answer, body included, and at most 1 MiB of it is read (a page of 50
 *  payments is a few KiB): past either, the answer is unknown. */
export const API_LIMITS: OutboundLimits = { timeoutMs: 10_000, maxBytes: 1024 * 1024 };

/** The refund's detail as the API lists it, or why not: PortOne does not know it (settled, never
 *  forwarded), or the API could not be asked (retried). */
export type RefundLookup = Result<
  Record<string, unknown>,
  { readonly kind: "unknown" | "unreachable"; readonly reason: string }
>;

const base64url = (text: string): string => toBase64Url(new TextEncoder().encode(text));

export async function portOneJwt(secret: string, portoneKey: string, nowMs: number): Promise<string> {
  const iat = Math.floor(nowMs / 1000);
  const header = base64url(JSON.stringify({ alg: "HS256", typ: "JWT" }));
  const claims = base64url(JSON.stringify({ iss: "PORTONE", sub: portoneKey, iat, exp: iat + JWT_LIFETIME_SECONDS }));
  const mac = await hmacSha256(await hmacKeyFromText(secret), `${header}.${claims}`);
  return `${header}.${claims}.${toBase64Url(mac)}`;
}

/** The headers every call carries: the PortOne Key and a fresh JWT. */
export async function authHeaders(secret: string, key: string, nowMs: number): Promise<Record<string, string>> {
  return {
    accept: "application/json",
    "x-portone-client-key": key,
    authorization: `Bearer ${await portOneJwt(secret, key, nowMs)}`,
  };
}

/** What PortOne's API says of one refund of a payment: GET /api/refund/{payment_txn_ref}. */
export async function lookUpRefund(
  portone: PortOneConfig,
  paymentTxnRef: string,
  refundId: string,
  nowMs: number,
): Promise<RefundLookup> {
  const [secret] = portone.secrets;
  const key = portone.apiKey;
  if (secret === undefined || key === undefined) {
    return err({ kind: "unreachable", reason: "PORTONE_SECRET_KEY or PORTONE_KEY is not configured" });
  }
  try {
    const headers = await authHeaders(secret, key, nowMs);
    const response = await fetchBounded(
      `${portone.apiBaseUrl}/api/refund/${encodeURIComponent(paymentTxnRef)}`,
      { headers },
      API_LIMITS,
    );
    if (response.status === 404) return err({ kind: "unknown", reason: "PortOne does not know this payment" });
    if (!response.ok) return err({ kind: "unreachable", reason: `PortOne API answered ${response.status}` });
    const details = refundDetails(jsonOf(response));
    if (details === null) return err({ kind: "unreachable", reason: "PortOne API answered without refundDetails" });
    const detail = details.find((d) => d.refund_id === refundId);
    return detail ? ok(detail) : err({ kind: "unknown", reason: "PortOne lists no refund with this refund_id" });
  } catch (thrown) {
    return err({ kind: "unreachable", reason: errorText(thrown) });
  }
}

/** refundDetails at the top level or inside the API's `content` / `data` wrapper. */
function refundDetails(body: unknown): Array<Record<string, unknown>> | null {
  for (const candidate of [body, field(body, "content"), field(body, "data")]) {
    const list = field(candidate, "refundDetails");
    if (Array.isArray(list))
      return list.filter((d): d is Record<string, unknown> => d !== null && typeof d === "object");
  }
  return null;
}

export function field(value: unknown, name: string): unknown {
  return value !== null && typeof value === "object" && !Array.isArray(value)
    ? (value as Record<string, unknown>)[name]
    : undefined;
}
