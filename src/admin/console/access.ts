// Cloudflare Access in front of the console, when CF_ACCESS_TEAM_DOMAIN and CF_ACCESS_AUD are set:
// Access authenticates the operator and adds its signed JWT to every request it lets through
// (Cf-Access-Jwt-Assertion). It is verified here with Hono's JWT library against the team's
// published keys (RS256, fetched through the outbound seam and kept for ten minutes), this
// application's audience and the team as issuer. A request without a valid one is refused: a
// Worker reachable past Access (its workers.dev name, say) must not open the console.

import type { Context } from "hono";
import { verifyWithJwks } from "hono/jwt";
import type { AccessConfig } from "../../config";
import type { AppEnv } from "../../env";
import { clock } from "../../lib/clock";
import { log } from "../../lib/log";
import { fetchBounded, jsonOf } from "../../lib/outbound";
import { errorText } from "../../lib/result";

/** How long the team's keys are kept, in ms (Access rotates them over weeks, with overlap). */
const KEYS_TTL_MS = 10 * 60 * 1000;
/** The team's key endpoint has 5 s to answer, body included, and 64 KiB of it is read (a few keys). */
const KEYS_LIMITS = { timeoutMs: 5_000, maxBytes: 64 * 1024 };

type Jwk = Parameters<typeof verifyWithJwks>[1]["keys"];
const keyCache = new Map<string, { keys: NonNullable<Jwk>; until: number }>();

async function teamKeys(teamDomain: string): Promise<NonNullable<Jwk>> {
  const cached = keyCache.get(teamDomain);
  if (cached && cached.until > clock.now()) return cached.keys;
  // A redirect is not followed: the keys come from the team's own host or not at all.
  const response = await fetchBounded(
    `https://${teamDomain}/cdn-cgi/access/certs`,
    { redirect: "manual" },
    KEYS_LIMITS,
  );
  if (!response.ok) throw new Error(`Access keys answered ${response.status}`);
  const body = jsonOf(response);
  const keys = body !== null && typeof body === "object" ? (body as { keys?: unknown }).keys : undefined;
  if (!Array.isArray(keys)) throw new Error("Access keys: no keys array");
  keyCache.set(teamDomain, { keys: keys as NonNullable<Jwk>, until: clock.now() + KEYS_TTL_MS });
  return keys as NonNullable<Jwk>;
}

/** The operator Access vouches for (the JWT's subject), or null when the request carries no valid JWT. */
export async function accessIdentity(c: Context<AppEnv>, access: AccessConfig): Promise<string | null> {
  const token = c.req.header("cf-access-jwt-assertion");
  if (!token) return null;
  try {
    const payload = await verifyWithJwks(token, {
      keys: await teamKeys(access.teamDomain),
      verification: { aud: access.audience, iss: `https://${access.teamDomain}` },
      allowedAlgorithms: ["RS256"],
    });
    // Access always sets exp; a token without one would never expire, so it is refused.
    if (typeof payload.exp !== "number") throw new Error("the Access JWT has no exp claim");
    return typeof payload.sub === "string" && payload.sub !== "" ? payload.sub : null;
  } catch (thrown) {
    log("warn", "console request refused: Access JWT not verified", { path: c.req.path, error: errorText(thrown) });
    return null;
  }
}
