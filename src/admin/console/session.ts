// Console sessions. Logging in with ADMIN_TOKEN sets a signed, expiring cookie (HttpOnly,
// SameSite=Strict, Path=/console, Secure outside loopback); the signing key is derived from the
// token, so changing ADMIN_TOKEN ends every session. Each session has a nonce from which the CSRF
// token of its forms is derived: a POST needs the session, a same-origin request (Hono's csrf
// middleware, by Origin or Sec-Fetch-Site) and that token.
// Gives up: sessions are stateless, so logging out ends this browser's session only (the cookie is
// deleted), not a copy of it; they expire after SESSION_SECONDS.

import type { Context } from "hono";
import { deleteCookie, getSignedCookie, setSignedCookie } from "hono/cookie";
import type { AppEnv } from "../../env";
import { hmacKeyFromText, hmacSign, secretMatches, timingSafeEqualText, toBase64Url } from "../../lib/hmac";
import { clock } from "../../lib/clock";
import { HOUR_MS, SECOND_MS } from "../../lib/time";

export const COOKIE = "console_session";
/** How long a login lasts, in seconds. */
export const SESSION_SECONDS = (8 * HOUR_MS) / SECOND_MS;

export interface Session {
  readonly nonce: string;
  readonly expiresAt: number;
}

const signingSecret = (token: string): string => `console-session:${token}`;

function loopback(c: Context<AppEnv>): boolean {
  const host = new URL(c.req.url).hostname;
  return host === "localhost" || host === "[::1]" || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** Whether the offered token is ADMIN_TOKEN: digests compared in constant time (not even the length leaks). */
export function tokenMatches(offered: string, token: string): Promise<boolean> {
  return secretMatches(offered, token);
}

export async function startSession(c: Context<AppEnv>, token: string): Promise<void> {
  const nonce = toBase64Url(crypto.getRandomValues(new Uint8Array(16)));
  const expiresAt = clock.now() + SESSION_SECONDS * 1000;
  await setSignedCookie(c, COOKIE, `${nonce}.${expiresAt}`, signingSecret(token), {
    httpOnly: true,
    sameSite: "Strict",
    secure: !loopback(c),
    path: "/console",
    maxAge: SESSION_SECONDS,
  });
}

export function endSession(c: Context<AppEnv>): void {
  deleteCookie(c, COOKIE, { path: "/console", secure: !loopback(c) });
}

/** The valid, unexpired session of the request, or null. */
export async function sessionOf(c: Context<AppEnv>, token: string): Promise<Session | null> {
  const value = await getSignedCookie(c, signingSecret(token), COOKIE);
  if (typeof value !== "string") return null;
  const [nonce, expires] = value.split(".");
  const expiresAt = Number(expires);
  if (!nonce || !Number.isFinite(expiresAt) || expiresAt <= clock.now()) return null;
  return { nonce, expiresAt };
}

/** The CSRF token of a session's forms. */
export async function csrfToken(session: Session, token: string): Promise<string> {
  return toBase64Url(await hmacSign(await hmacKeyFromText(signingSecret(token)), `csrf:${session.nonce}`));
}

export async function csrfMatches(session: Session, token: string, offered: unknown): Promise<boolean> {
  return typeof offered === "string" && timingSafeEqualText(offered, await csrfToken(session, token));
}
