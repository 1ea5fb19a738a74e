// What every provider scheme is: a pure function from a request (raw body, headers, the source's
// secrets, the clock) to the items its signature proves, each with the provider's own event id,
// object, kind and status. schemes/index.ts turns items into the gateway's events; the modules
// beside this one each hold one provider's rules, with the rule's source cited in their header.

import { anyMatch, hmacKey, hmacSign, timingSafeEqualText, toBase64, toHex, type HmacHash } from "../../lib/hmac";
import { ok, type Result } from "../../lib/result";
import type { CertificateKey } from "../../lib/x509";
import { parseJsonObject } from "../json-scan";
import { reject, type Lifecycle, type Rejection } from "../types";
import type { SchemeName } from "../names";
import type { ConfirmerName } from "../proven";

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
  /** The source's options for its scheme (config.ts of each scheme says which it takes). */
  readonly options: SchemeOptions;
  /** The route's segment after the source (Payment Options' token in its webhook_url), or null. */
  readonly pathToken: string | null;
}

/** What a source may configure beyond its secrets, each for the schemes that take it. */
export interface SchemeOptions {
  /** PayMongo: which signature of the header is compared (`li` live, `te` test). */
  readonly mode: "live" | "test";
  /** FPX: the provider's X.509 certificates (two while it renews yearly). */
  readonly certificates: readonly CertificateKey[];
  /** An API-confirmed scheme: the provider's API (Midtrans's has a default; Payment Options names each merchant's). */
  readonly apiBaseUrl: string | null;
  /** Payment Options: the key of its transaction-status API. */
  readonly apiKey: string | null;
}

export type SchemeOption = "mode" | "certificates" | "apiBaseUrl" | "apiKey";

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
  /** The forwarded type, where the scheme names it apart from the status (Pulse2Pay's `event`). */
  readonly type?: string;
  /** The item proves only a hint: the provider's API is asked about `subject`, and only its answer is
   *  forwarded (Midtrans, Payment Options). `claimed`: the status the hint claims, if any. */
  readonly confirm?: { readonly by: ConfirmerName; readonly subject: string; readonly claimed: string | null };
}

export type SchemeResult = Result<readonly SchemeItem[], Rejection>;

export interface Scheme {
  readonly name: SchemeName;
  /** The request headers its proof reads (lower-case), kept in a forward's `original` for a merchant who
   *  verifies again: never one that is itself the secret (Xendit's x-callback-token). A scheme that signs
   *  inside the body has none. */
  readonly signedHeaders: readonly string[];
  /** The provider's replay window, in seconds; null when it signs no timestamp. */
  readonly toleranceSeconds: number | null;
  /** A request carries a batch of items (Adyen): each is named by its own content, not the request's
   *  bytes, so a batch resent with other items answers duplicate for the ones already stored. */
  readonly batch?: true;
  /** The text the provider expects once every item is stored (Adyen's `[accepted]`); without one the
   *  answer is the gateway's JSON. */
  readonly answer?: string;
  /** The statuses' order and finals, when the provider documents them (a source may set its own). */
  readonly lifecycle?: Lifecycle;
  /** What a source of this scheme configures beyond the defaults. */
  readonly config?: SchemeConfig;
  verify(input: SchemeInput): Promise<SchemeResult>;
}

/** A scheme's configuration rules, checked once when WEBHOOK_SOURCES is read (sources/parse.ts). */
export interface SchemeConfig {
  /** What each secret must be, where the provider gives it a form; "none" when the scheme takes no secret. */
  readonly secret?: { readonly valid: (secret: string) => boolean; readonly what: string } | "none";
  /** The options it takes (SchemeOptions), and which of them must be set. */
  readonly options?: readonly SchemeOption[];
  readonly required?: readonly SchemeOption[];
  /** Its route ends with a token after the source's name (POST /webhooks/<scheme>/<source>/<token>). */
  readonly pathToken?: true;
}

const utf8 = new TextEncoder();

/** The HMAC key of a secret used as text (its UTF-8 bytes), SHA-256 unless `hash` says otherwise. */
export const textKey =
  (hash: HmacHash = "SHA-256") =>
  (secret: string): Promise<CryptoKey> =>
    hmacKey(`scheme:${secret}`, () => utf8.encode(secret), hash);

/** The HMAC-SHA256 key of a secret given as base64 of its bytes (Omise). */
export const base64Key = (secret: string): Promise<CryptoKey> =>
  hmacKey(`base64:${secret}`, () => base64Bytes(secret) ?? new Uint8Array(32));

/** The bytes of standard base64, or null when it is not. */
export function base64Bytes(text: string): Uint8Array | null {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text.trim())) return null;
  try {
    return Uint8Array.from(atob(text.trim()), (c) => c.charCodeAt(0));
  } catch {
    return null;
  }
}

/** Whether any secret's hex (or base64) MAC of `message` equals one of `offered`, compared in constant time. */
export async function anySecretSigns(
  secrets: readonly string[],
  message: string,
  offered: readonly string[],
  encoding: "hex" | "base64",
  key: (secret: string) => Promise<CryptoKey> = textKey(),
): Promise<boolean> {
  return anyMatch(secrets, async (secret) => {
    const mac = await hmacSign(await key(secret), message);
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

/** How a scheme's SDK compares a signed timestamp with the clock: `future` also refuses one as far
 *  ahead; `milliseconds` compares the clock's milliseconds with the end of the window (Paddle: 5.9 s
 *  old is stale) instead of whole seconds (Stripe, Standard Webhooks: floor(now / 1000) - t); `unit`
 *  "ms" reads a timestamp sent in milliseconds (Pulse2Pay, Cashfree), compared in milliseconds. */
export interface TimestampRule {
  readonly future: boolean;
  readonly milliseconds?: boolean;
  readonly unit?: "s" | "ms";
}

/** A rejection when `timestamp` (in `rule.unit`, seconds by default) lies outside the tolerance. */
export function staleness(timestamp: number, input: SchemeInput, rule: TimestampRule): Result<never, Rejection> | null {
  const tolerance = input.toleranceSeconds;
  if (tolerance === null) return reject("stale_timestamp", "no replay window is configured for a signed timestamp");
  const ageMs =
    rule.unit === "ms"
      ? input.nowMs - timestamp
      : rule.milliseconds
        ? input.nowMs - timestamp * 1000
        : (Math.floor(input.nowMs / 1000) - timestamp) * 1000;
  if (ageMs > tolerance * 1000 || (rule.future && -ageMs > tolerance * 1000))
    return reject("stale_timestamp", `timestamp ${timestamp} is ${ageMs / 1000} s from now (tolerance ${tolerance} s)`);
  return null;
}

/** A signed timestamp header's value (digits only: seconds, or milliseconds where the unit says so). */
export function timestampOf(value: string | null, unit: "s" | "ms" = "s"): number | null {
  const text = value?.trim() ?? "";
  return new RegExp(`^\\d{1,${unit === "ms" ? 15 : 12}}$`).test(text) ? Number(text) : null;
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
