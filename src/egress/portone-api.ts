// Calls to PortOne's API (spec §11): headers X-Portone-Client-Key and Authorization: Bearer <JWT>,
// the JWT HS256-signed with the PortOne Secret Key (text bytes), claims iss PORTONE, sub the key,
// iat now, exp iat + 100 s (a short-lived token per call, as the docs do).

import { hmacKeyFromText, hmacSha256, toBase64Url } from "../lib/hmac";
import { portOneSecrets } from "../config";
import { fetchWithTimeout } from "../lib/outbound";

const DEFAULT_API_BASE_URL = "https://api.portone.cloud";
/** The docs' token lifetime, in seconds. */
const JWT_LIFETIME_SECONDS = 100;
/** How long PortOne's API has to answer, in ms. */
const API_TIMEOUT_MS = 10_000;

export type RefundLookup =
  | { readonly kind: "found"; readonly detail: Record<string, unknown> }
  | { readonly kind: "unknown"; readonly reason: string }
  | { readonly kind: "unreachable"; readonly error: string };

const base64url = (text: string): string => toBase64Url(new TextEncoder().encode(text));

export async function portOneJwt(secret: string, portoneKey: string, nowMs: number): Promise<string> {
  const iat = Math.floor(nowMs / 1000);
  const header = base64url(JSON.stringify({ alg: "HS256", typ: "JWT" }));
  const claims = base64url(JSON.stringify({ iss: "PORTONE", sub: portoneKey, iat, exp: iat + JWT_LIFETIME_SECONDS }));
  const mac = await hmacSha256(await hmacKeyFromText(secret), `${header}.${claims}`);
  return `${header}.${claims}.${toBase64Url(mac)}`;
}

/** What PortOne's API says of one refund of a payment: GET /api/refund/{payment_txn_ref}. */
export async function lookUpRefund(
  env: Env,
  paymentTxnRef: string,
  refundId: string,
  nowMs: number,
): Promise<RefundLookup> {
  const secret = portOneSecrets(env)[0];
  const key: string | undefined = env.PORTONE_KEY;
  if (secret === undefined || typeof key !== "string" || key.trim() === "") {
    return { kind: "unreachable", error: "PORTONE_SECRET_KEY or PORTONE_KEY is not configured" };
  }
  const base = (env.PORTONE_API_BASE_URL || DEFAULT_API_BASE_URL).replace(/\/+$/, "");
  try {
    const headers = {
      accept: "application/json",
      "x-portone-client-key": key.trim(),
      authorization: `Bearer ${await portOneJwt(secret, key.trim(), nowMs)}`,
    };
    const response = await fetchWithTimeout(
      `${base}/api/refund/${encodeURIComponent(paymentTxnRef)}`,
      { headers },
      API_TIMEOUT_MS,
    );
    if (response.status === 404) return { kind: "unknown", reason: "PortOne does not know this payment" };
    if (!response.ok) return { kind: "unreachable", error: `PortOne API answered ${response.status}` };
    const details = refundDetails(await response.json().catch(() => null));
    if (details === null) return { kind: "unreachable", error: "PortOne API answered without refundDetails" };
    const detail = details.find((d) => d.refund_id === refundId);
    return detail
      ? { kind: "found", detail }
      : { kind: "unknown", reason: "PortOne lists no refund with this refund_id" };
  } catch (err) {
    return {
      kind: "unreachable",
      error: err instanceof Error ? `${err.name}: ${err.message}`.slice(0, 200) : "unknown error",
    };
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

function field(value: unknown, name: string): unknown {
  return value !== null && typeof value === "object" && !Array.isArray(value)
    ? (value as Record<string, unknown>)[name]
    : undefined;
}
