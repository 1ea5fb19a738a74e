// Destinations: where forwarded events go. MERCHANT_ORIGIN_URL and FORWARD_SIGNING_SECRET make the
// destination `default` (every type); DESTINATIONS adds named ones as JSON:
//   {"erp": {"url": "https://…", "secret": "whsec_…", "types": ["portone.payment.*"], "timeoutMs": 10000}}
// Validated once (by loadConfig), with the same validators as the default's (URL, whsec secret);
// an error names the key (DESTINATIONS.erp.url). The default destination is built here too, once. `types` are globs on the event type, where `*`
// stands for any run of characters; without `types` a destination takes every type. `filter` (filter.ts)
// narrows that to events whose proven fields match; `maxAttempts` shortens the retry budget; `original`
// adds the provider's request to the envelope.

import type { ConfigError } from "../lib/config-error";
import { isRecord, parseNamedJson, type EntryError } from "../lib/named-json";
import { outboundUrl } from "../lib/outbound";
import { err, ok, type Result } from "../lib/result";
import { MIN_SECRET_BYTES, parseStandardSecret } from "../lib/standard-webhooks";
import { parseFilter, type Filter } from "./filter";

export interface Destination {
  readonly name: string;
  readonly url: string;
  /** Standard Webhooks key bytes (from whsec_ + base64). */
  readonly secret: Uint8Array;
  /** Type globs as configured; null: every type. */
  readonly types: readonly string[] | null;
  /** The same globs, compiled. */
  readonly matchers: readonly RegExp[] | null;
  /** How long the destination has to answer, in ms. */
  readonly timeoutMs: number;
  /** Sends per second at most (null: no limit), enforced by the destination's gate. */
  readonly maxPerSecond: number | null;
  /** Requests in flight at once at most (null: no limit), enforced by the destination's gate. */
  readonly maxConcurrency: number | null;
  /** Failed attempts (not-ready ones not counted) before a delivery is dead-lettered (null: the usual
   *  schedule, about three days). */
  readonly maxAttempts: number | null;
  /** Proven fields an event must match to be queued here (filter.ts); null: every event of its types. */
  readonly filter: Filter | null;
  /** Whether its envelopes carry the provider's request as received (`original`). */
  readonly original: boolean;
  /** Set when the destination's variables are unusable (only `default`'s can be: a named one is
   *  refused with all of DESTINATIONS): every attempt to it fails with this. */
  readonly unusable?: ConfigError;
}

export const DEFAULT_DESTINATION = "default";
export const DEFAULT_TIMEOUT_MS = 10_000;
const NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;
const MAX_TIMEOUT_MS = 30_000;

export function typeGlob(glob: string): RegExp {
  const escaped = glob.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*");
  return new RegExp(`^${escaped}$`, "i");
}

export function takes(destination: Destination, type: string): boolean {
  return destination.matchers === null || destination.matchers.some((glob) => glob.test(type));
}

/** The named destinations of DESTINATIONS, or what is wrong (its key names the entry and field). */
export function parseDestinations(raw: string | undefined): Result<Destination[], ConfigError> {
  if (raw === undefined) return ok([]);
  const parsed = parseNamedJson("DESTINATIONS", raw, parseOne);
  return parsed.ok ? ok(parsed.value.map(([, destination]) => destination)) : parsed;
}

const bad = (field: string | undefined, message: string): Result<never, EntryError> =>
  err(field === undefined ? { message } : { field, message });

function parseOne(name: string, v: unknown): Result<Destination, EntryError> {
  if (!NAME.test(name) || name === DEFAULT_DESTINATION)
    return bad(undefined, "a name is lower-case letters, digits, - and _, and not 'default'");
  if (!isRecord(v)) return bad(undefined, "must be an object");
  const url = outboundUrl(typeof v.url === "string" ? v.url.trim() : undefined);
  if (url === null) return bad("url", "an absolute https URL (http only to a loopback host)");
  const secret = typeof v.secret === "string" ? parseStandardSecret(v.secret) : null;
  if (secret === null) return bad("secret", `whsec_ + base64 of at least ${MIN_SECRET_BYTES} bytes`);
  const types = v.types ?? null;
  if (
    types !== null &&
    (!Array.isArray(types) || types.length === 0 || !types.every((t) => typeof t === "string" && t !== ""))
  )
    return bad("types", 'a non-empty list of type globs such as "portone.payment.*"');
  const timeoutMs = v.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (typeof timeoutMs !== "number" || !Number.isInteger(timeoutMs) || timeoutMs < 100 || timeoutMs > MAX_TIMEOUT_MS)
    return bad("timeoutMs", `a whole number of milliseconds from 100 to ${MAX_TIMEOUT_MS}`);
  const limits: Record<"maxPerSecond" | "maxConcurrency", number | null> = { maxPerSecond: null, maxConcurrency: null };
  for (const limit of ["maxPerSecond", "maxConcurrency"] as const) {
    const value = v[limit];
    if (value === undefined) continue;
    if (typeof value !== "number" || !Number.isInteger(value) || value < 1 || value > 10_000)
      return bad(limit, "a whole number from 1 to 10000");
    limits[limit] = value;
  }
  const maxAttempts = v.maxAttempts ?? null;
  if (
    maxAttempts !== null &&
    (typeof maxAttempts !== "number" || !Number.isInteger(maxAttempts) || maxAttempts < 1 || maxAttempts > 1000)
  )
    return bad("maxAttempts", "a whole number of attempts from 1 to 1000");
  const filter = v.filter === undefined ? ok(null) : parseFilter(v.filter);
  if (!filter.ok) return bad("filter", filter.error);
  const original = v.original ?? false;
  if (typeof original !== "boolean") return bad("original", "true or false");
  return ok({
    name,
    url,
    secret,
    types: types as string[] | null,
    matchers: types === null ? null : (types as string[]).map(typeGlob),
    timeoutMs,
    ...limits,
    maxAttempts,
    filter: filter.value,
    original,
  });
}
