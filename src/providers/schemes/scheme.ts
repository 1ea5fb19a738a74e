// What every provider scheme is: a pure function from a request (raw body, headers, the source's
// secrets, the clock) to the items its signature proves, each with the provider's own event id,
// object, kind and status. schemes/events.ts turns items into the gateway's events; the modules
// beside this one each hold one provider's rules, with the rule's source cited in their header.

import { hmacKey, hmacSha256, timingSafeEqualText, toBase64, toHex } from "../../lib/hmac";
import { ok, type Result } from "../../lib/result";
import { parseJsonObject } from "../json-scan";
import { reject, type Rejection } from "../types";
import type { SchemeName } from "./names";

export { SCHEME_NAMES, isSchemeName, type SchemeName } from "./names";

export interface SchemeInput {
  readonly raw: string;
  readonly headers: Headers;
  readonly secrets: readonly string[];
  /** Seconds a signed timestamp may be old (the scheme's own, or the source's override). */
  readonly toleranceSeconds: number;
  readonly nowMs: number;
  /** The URL the provider signs (Square): the source's notificationUrl, else the request's URL. */
  readonly url: string;
}

/** One event a signature proved. */
export interface SchemeItem {
  /** The provider's id of this event; null when it has none (the body's hash names it then). */
  readonly id: string | null;
  readonly objectRef: string | null;
  readonly kind: string;
  readonly status: string | null;
  /** What the signature proves. */
  readonly data: Record<string, unknown>;
  /** What no signature covers (Adyen's unsigned item fields); null when there is none. */
  readonly unverified: Record<string, unknown> | null;
}

export type SchemeResult = Result<readonly SchemeItem[], Rejection>;

export interface Scheme {
  readonly name: SchemeName;
  /** The provider's replay window, in seconds; null when it signs no timestamp. */
  readonly toleranceSeconds: number | null;
  verify(input: SchemeInput): Promise<SchemeResult>;
}

const utf8 = new TextEncoder();

/** Whether any secret's hex (or base64) MAC of `message` equals one of `offered`, compared in constant time. */
export async function anySecretSigns(
  secrets: readonly string[],
  message: string,
  offered: readonly string[],
  encoding: "hex" | "base64",
  key: (secret: string) => Promise<CryptoKey> = (s) => hmacKey(`scheme:${s}`, () => utf8.encode(s)),
): Promise<boolean> {
  let matched = false;
  for (const secret of secrets) {
    const mac = await hmacSha256(await key(secret), message);
    const expected = encoding === "hex" ? toHex(mac) : toBase64(mac);
    for (const candidate of offered) if (timingSafeEqualText(expected, candidate)) matched = true;
  }
  return matched;
}

/** What names an event in a body, as a scheme reads it. */
export type ItemFields = Omit<SchemeItem, "data" | "unverified">;

/** A signature that covers the whole body: the body, a JSON object, is the request's one item and
 *  all of it is `data`; `read` names its event. */
export function wholeBodyItem(raw: string, read: (body: Record<string, unknown>) => ItemFields): SchemeResult {
  const parsed = parseJsonObject(raw);
  if (!parsed.ok) return parsed;
  const body = parsed.value.object;
  return ok([{ ...read(body), data: body, unverified: null }]);
}

/** A rejection when `timestamp` (seconds) is older than the tolerance (or, with `future`, as far ahead). */
export function staleness(timestamp: number, input: SchemeInput, future: boolean): Result<never, Rejection> | null {
  const age = Math.floor(input.nowMs / 1000) - timestamp;
  if (age > input.toleranceSeconds || (future && -age > input.toleranceSeconds))
    return reject(
      "stale_timestamp",
      `timestamp ${timestamp} is ${age} s from now (tolerance ${input.toleranceSeconds} s)`,
    );
  return null;
}

/** The value at a dot path as a record; null when absent or not an object. */
export function recordAt(value: unknown, path: string): Record<string, unknown> | null {
  let here = value;
  for (const key of path.split(".")) {
    if (here === null || typeof here !== "object" || Array.isArray(here) || !Object.hasOwn(here, key)) return null;
    here = (here as Record<string, unknown>)[key];
  }
  return here !== null && typeof here === "object" && !Array.isArray(here) ? (here as Record<string, unknown>) : null;
}

/** A non-empty string (or finite number as text) at a key of a record; null otherwise. */
export function textOf(record: Record<string, unknown> | null, key: string): string | null {
  const value = record !== null && Object.hasOwn(record, key) ? record[key] : undefined;
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  return typeof value === "string" && value !== "" ? value : null;
}

/** A header's values split on a separator into key=value pairs (Stripe's `,`, Paddle's `;`). */
export function headerPairs(value: string, separator: string): Array<readonly [string, string]> {
  return value.split(separator).map((part) => {
    const at = part.indexOf("=");
    return at < 0 ? ([part.trim(), ""] as const) : ([part.slice(0, at).trim(), part.slice(at + 1).trim()] as const);
  });
}
