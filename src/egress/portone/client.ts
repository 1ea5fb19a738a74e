// PortOne's API client (docs/portone-api.md): every call carries X-Portone-Client-Key and
// Authorization: Bearer <JWT>, the JWT HS256-signed with the PortOne Secret Key (text bytes), claims
// iss PORTONE, sub the key, iat now, exp iat + 100 s (a short-lived token per call, as the docs do).
// One failure union for every endpoint: an auth error (4010, 4054, 401/403, or credentials not
// configured) is a configuration problem the caller stops on; 5xx, timeouts and refused connections
// are `unavailable` (back off); 4096 / 4001 and a 404 are `not_found`; anything else that cannot be
// read is `unreadable`, never a status. One deadline covers each call, body included (lib/outbound.ts).

import type { PortOneConfig } from "../../config";
import { sign } from "hono/jwt";
import { isRecord } from "../../lib/named-json";
import { fetchBounded, jsonOf, type OutboundAnswer, type OutboundLimits } from "../../lib/outbound";
import { err, errorText, ok } from "../../lib/result";
import type { Lookup } from "../lookup";

export type Json = Record<string, unknown>;

/** The docs' token lifetime, in seconds. */
const JWT_LIFETIME_SECONDS = 100;
/** PortOne's API has 10 s to answer, body included, and at most 1 MiB of it is read (a page of 50
 *  payments is a few KiB): past either, the answer is unknown. */
const API_LIMITS: OutboundLimits = { timeoutMs: 10_000, maxBytes: 1024 * 1024 };
const AUTH_CODES = new Set(["4010", "4054"]);
const NOT_FOUND_CODES = new Set(["4096", "4001"]);

/** The call's token, signed by hono/jwt (HS256, the secret's text bytes as the key). */
export function portOneJwt(secret: string, portoneKey: string, nowMs: number): Promise<string> {
  const iat = Math.floor(nowMs / 1000);
  return sign({ iss: "PORTONE", sub: portoneKey, iat, exp: iat + JWT_LIFETIME_SECONDS }, secret, "HS256");
}

/** One call: the parsed JSON body of a success, or what went wrong. */
export async function call(portone: PortOneConfig, path: string, nowMs: number, body?: Json): Promise<Lookup<unknown>> {
  const [secret] = portone.secrets;
  const key = portone.apiKey;
  if (secret === undefined || key === undefined)
    return err({ kind: "auth", reason: "PORTONE_SECRET_KEY or PORTONE_KEY is not configured" });
  let response: OutboundAnswer;
  try {
    const headers = {
      accept: "application/json",
      "x-portone-client-key": key,
      authorization: `Bearer ${await portOneJwt(secret, key, nowMs)}`,
    };
    // Never followed: a redirect would carry the client key (and the token) to another host.
    const init: RequestInit =
      body === undefined
        ? { headers, redirect: "manual" }
        : {
            method: "POST",
            headers: { ...headers, "content-type": "application/json" },
            body: JSON.stringify(body),
            redirect: "manual",
          };
    response = await fetchBounded(`${portone.apiBaseUrl}${path}`, init, API_LIMITS);
  } catch (thrown) {
    return err({ kind: "unavailable", reason: errorText(thrown) });
  }
  const parsed = jsonOf(response);
  const rawCode = field(parsed, "status_code") ?? field(field(parsed, "body"), "status_code");
  const code = typeof rawCode === "string" || typeof rawCode === "number" ? String(rawCode) : "";
  if (AUTH_CODES.has(code) || response.status === 401 || response.status === 403)
    return err({ kind: "auth", reason: `PortOne refused the credentials (${code || response.status})` });
  if (NOT_FOUND_CODES.has(code) || response.status === 404)
    return err({ kind: "not_found", reason: `PortOne does not know this reference (${code || response.status})` });
  if (response.status >= 500) return err({ kind: "unavailable", reason: `PortOne API answered ${response.status}` });
  if (!response.ok || parsed === undefined)
    return err({ kind: "unreadable", reason: `PortOne API answered ${response.status} without a readable body` });
  if (code !== "" && code !== "2000") return err({ kind: "unreadable", reason: `PortOne API status_code ${code}` });
  return ok(parsed);
}

export function field(value: unknown, name: string): unknown {
  return isRecord(value) ? value[name] : undefined;
}
