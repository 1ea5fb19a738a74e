// What every provider scheme is: a pure function from a request (raw body, headers, the source's
// secrets, the clock) to the items its signature proves, each with the provider's own event id,
// object, kind and status. schemes/index.ts turns items into the gateway's events; the modules
// beside this one each hold one provider's rules, with the rule's source cited in their header.

import { anyMatch, hmacKey, hmacSha256, timingSafeEqualText, toBase64, toHex } from "../../lib/hmac";
import { ok, type Result } from "../../lib/result";
import { parseJsonObject } from "../json-scan";
import { reject, type Rejection } from "../types";
import type { SchemeName } from "../names";

export interface SchemeInput {
  readonly raw: string;
  readonly headers: Headers;
  readonly secrets: readonly string[];
  /** Seconds a signed timestamp may be old (the scheme's own, or the source's override); null for a
   *  scheme that signs no timestamp. */
  readonly toleranceSeconds: number | null;
  readonly nowMs: number;
  /** The URL the provider signs (Square): the source's notificationUrl, else the request's URL. */
  readonly url: string;
}

/** One event a signature proved. */
export interface SchemeItem {
  /** The provider's id of this event, when the proof covers it; null otherwise (what is proven names it). */
  readonly id: string | null;
  /** An id the provider sends beside what it signs (Razorpay's x-razorpay-event-id): logged only. */
  readonly deliveryId?: string;
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
  /** A request carries a batch of items (Adyen): each is named by its own content, not the request's
   *  bytes, so a batch resent with other items answers duplicate for the ones already stored. */
  readonly batch?: true;
  /** The text the provider expects once every item is stored (Adyen's `[accepted]`); without one the
   *  answer is the gateway's JSON. */
  readonly answer?: string;
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
  return anyMatch(secrets, async (secret) => {
    const mac = await hmacSha256(await key(secret), message);
    const expected = encoding === "hex" ? toHex(mac) : toBase64(mac);
    return anyMatch(offered, (candidate) => timingSafeEqualText(expected, candidate));
  });
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

/** How a scheme's SDK compares a signed timestamp (seconds) with the clock: `future` also refuses one
 *  as far ahead; `milliseconds` compares the clock's milliseconds with the end of the window (Paddle:
 *  5.9 s old is stale) instead of whole seconds (Stripe, Standard Webhooks: floor(now / 1000) - t). */
export interface TimestampRule {
  readonly future: boolean;
  readonly milliseconds?: boolean;
}

/** A rejection when `timestamp` (seconds) lies outside the tolerance, compared as `rule` says. */
export function staleness(timestamp: number, input: SchemeInput, rule: TimestampRule): Result<never, Rejection> | null {
  const tolerance = input.toleranceSeconds;
  if (tolerance === null) return reject("stale_timestamp", "no replay window is configured for a signed timestamp");
  const ageMs = rule.milliseconds
    ? input.nowMs - timestamp * 1000
    : (Math.floor(input.nowMs / 1000) - timestamp) * 1000;
  if (ageMs > tolerance * 1000 || (rule.future && -ageMs > tolerance * 1000))
    return reject("stale_timestamp", `timestamp ${timestamp} is ${ageMs / 1000} s from now (tolerance ${tolerance} s)`);
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
