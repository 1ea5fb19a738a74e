// One forwarded request to the merchant's origin: the contract's JSON envelope, signed with
// Standard Webhooks headers. The body is the same on every retry (webhook-id is the event id, so
// the origin can drop repeats); the timestamp and signature are those of the attempt.
// A 2xx answer takes the event; anything else, a redirect, an error or no answer within
// the destination's timeout is a failure to retry.

import { fetchBounded } from "../lib/outbound";
import type { Config } from "../config";
import { typeOf } from "../providers/names";
import type { EventRef } from "../providers/types";
import type { EnvelopeFields } from "../providers/schema/events";
import { describeConfigError } from "../lib/config-error";
import { err, errorText, ok, type Result } from "../lib/result";
import { standardWebhookHeaders, standardWebhookKey } from "../lib/standard-webhooks";

/** An event as it is forwarded: the contract's envelope is built from this. */
export interface ForwardEvent extends EventRef {
  readonly previousStatus: string | null;
  readonly receivedAt: string;
  /** Where the gateway learned the event: "webhook" or "reconciliation". */
  readonly source: string;
  /** What is proven, as stored (JSON text). */
  readonly data: string;
  /** What no signature covers (JSON text), or null. */
  readonly unverified: string | null;
  /** The WEBHOOK_SOURCES name it arrived on, or null (PortOne's routes, an API's answer). */
  readonly sourceName: string | null;
  /** The provider's request as received (JSON {"headers", "body"}), when it was kept; else null. */
  readonly original?: string | null;
}

export interface ForwardTarget {
  readonly url: string;
  readonly key: CryptoKey;
  /** How long the destination has to answer, in ms. */
  readonly timeoutMs: number;
  readonly maxPerSecond: number | null;
  readonly maxConcurrency: number | null;
  /** Whether its envelopes carry the provider's request (`original`). */
  readonly original: boolean;
}

/** What one attempt got: the origin's 2xx, or the failure to record (with its HTTP status, if any). */
export type AttemptResult = Result<{ readonly httpStatus: number }, AttemptFailure>;

export interface AttemptFailure {
  readonly httpStatus: number | null;
  readonly error: string;
  /** The origin's Retry-After, in ms, with a 429 or 503. */
  readonly retryAfterMs?: number;
}

/** The contract's envelope: `data` is only what was proven; the rest travels apart as `unverified`,
 *  left out when there is none; `original` (the provider's request) only for a destination that asks. */
export function envelopeOf(event: ForwardEvent, withOriginal = false): string {
  const unverified = event.unverified === null ? null : (JSON.parse(event.unverified) as Record<string, unknown>);
  const envelope: EnvelopeFields = {
    id: event.eventId,
    type: typeOf(event),
    provider: event.provider,
    kind: event.kind,
    object_ref: event.objectRef,
    status: event.status,
    previous_status: event.previousStatus,
    received_at: event.receivedAt,
    source: event.source as EnvelopeFields["source"], // "webhook" or "reconciliation", as recorded
    ...(event.sourceName === null ? {} : { source_name: event.sourceName }),
    data: JSON.parse(event.data) as Record<string, unknown>,
    ...(unverified !== null && Object.keys(unverified).length > 0 ? { unverified } : {}),
    ...(withOriginal && event.original != null
      ? { original: JSON.parse(event.original) as NonNullable<EnvelopeFields["original"]> }
      : {}),
  };
  return JSON.stringify(envelope);
}

/** Where a destination's queue goes (`default` is MERCHANT_ORIGIN_URL), or why it cannot be sent
 *  there: its variables are unusable, or it is no longer configured. Either is a failure to retry
 *  (and see in the attempts). */
export async function targetFor(config: Config, destination: string): Promise<Result<ForwardTarget, string>> {
  const found = config.destinations.ok ? config.destinations.value.find((d) => d.name === destination) : undefined;
  if (found === undefined) return err(`destination ${destination} is not configured (DESTINATIONS)`);
  if (found.unusable !== undefined) return err(describeConfigError(found.unusable));
  const { url, timeoutMs, maxPerSecond, maxConcurrency, original } = found;
  return ok({ url, key: await standardWebhookKey(found.secret), timeoutMs, maxPerSecond, maxConcurrency, original });
}

/** A forward waiting for its turn: signed only when a lease lets it go (its timestamp is the send's),
 *  never before the gate has said it may be sent. */
export interface Outgoing {
  /** How long the destination has to answer, in ms (the gate counts a request out this long). */
  readonly timeoutMs: number;
  sign(nowMs: number): Promise<SignedRequest>;
  /** Whether a failed answer means "not ready yet" (a new object the origin does not know): then it
   *  neither counts toward the breaker nor resets it (ledger/not-ready.ts). */
  notReady?(httpStatus: number | null): boolean;
}

/** An event to forward to a target: its envelope built now (a fault in the stored event fails the run
 *  at once), its signature made when it is sent. */
export function outgoing(
  target: ForwardTarget,
  event: ForwardEvent,
  notReady?: (httpStatus: number | null) => boolean,
): Outgoing {
  const body = envelopeOf(event, target.original);
  return {
    timeoutMs: target.timeoutMs,
    sign: (nowMs) => signedBody(target, event.eventId, body, nowMs),
    ...(notReady === undefined ? {} : { notReady }),
  };
}

/** A request signed already, as an Outgoing (a test's, or a notification's). */
export function presigned(request: SignedRequest): Outgoing {
  return { timeoutMs: request.timeoutMs, sign: () => Promise.resolve(request) };
}

/** One forward, ready to send: the destination, the signed headers and the envelope. */
export interface SignedRequest {
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly body: string;
  readonly timeoutMs: number;
}

export async function signedRequest(
  target: ForwardTarget,
  event: ForwardEvent,
  nowMs: number,
  timeoutMs: number = target.timeoutMs,
): Promise<SignedRequest> {
  return { ...(await signedBody(target, event.eventId, envelopeOf(event, target.original), nowMs)), timeoutMs };
}

/** A built envelope, signed now with the target's key (webhook-id is the event id). */
async function signedBody(target: ForwardTarget, eventId: string, body: string, nowMs: number): Promise<SignedRequest> {
  const timestamp = Math.floor(nowMs / 1000);
  const headers = {
    "content-type": "application/json",
    "user-agent": "edge-webhook-gateway",
    ...(await standardWebhookHeaders(target.key, eventId, timestamp, body)),
  };
  return { url: target.url, headers, body, timeoutMs: target.timeoutMs };
}

/** Sends a signed forward once. A 2xx takes it; anything else is a failure, with the origin's
 *  Retry-After (429 or 503) when it gave one. */
export async function send(request: SignedRequest): Promise<AttemptResult> {
  try {
    const response = await fetchBounded(
      request.url,
      { method: "POST", headers: request.headers, body: request.body, redirect: "manual" },
      // A 2xx is all that counts: its body is never read. A failure's first bytes say why.
      { timeoutMs: request.timeoutMs, maxBytes: ANSWER_EXCERPT_BYTES, readBody: (status) => !isSuccess(status) },
    );
    if (isSuccess(response.status)) return ok({ httpStatus: response.status });
    const retryAfterMs =
      response.status === 429 || response.status === 503 ? retryAfter(response.headers.get("retry-after")) : null;
    const excerpt = response.body.replace(/\s+/g, " ").trim();
    return err({
      httpStatus: response.status,
      error: `${hostOf(request.url)} answered ${response.status}${excerpt === "" ? "" : `: ${excerpt}${response.truncated ? "…" : ""}`}`,
      ...(retryAfterMs === null ? {} : { retryAfterMs }),
    });
  } catch (thrown) {
    return err({ httpStatus: null, error: describeFailure(thrown, request) });
  }
}

/** How much of a failed answer is kept with the attempt, in bytes (what an operator needs to see why). */
const ANSWER_EXCERPT_BYTES = 300;

const isSuccess = (status: number): boolean => status >= 200 && status < 300;

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return "the destination";
  }
}

/** Retry-After as seconds or an HTTP date, in ms from now (at most an hour); null when absent or unreadable.
 *  An HTTP date is the origin's wall clock, so it is read against the wall clock, not the clock seam. */
function retryAfter(value: string | null): number | null {
  if (value === null) return null;
  const seconds = /^\d{1,6}$/.test(value.trim()) ? Number(value.trim()) : (Date.parse(value) - Date.now()) / 1000;
  return Number.isFinite(seconds) && seconds >= 0 ? Math.min(seconds, 3600) * 1000 : null;
}

/** A request that got no answer, named by host and kind (timeout, refused, DNS, TLS), with the runtime's words. */
function describeFailure(thrown: unknown, request: SignedRequest): string {
  const host = hostOf(request.url);
  if (thrown instanceof Error && (thrown.name === "TimeoutError" || thrown.name === "AbortError")) {
    return `timeout: no answer from ${host} within ${request.timeoutMs} ms`;
  }
  const text = errorText(thrown);
  const kind = /refused/i.test(text)
    ? "connection refused"
    : /ENOTFOUND|getaddrinfo|DNS|resolve/i.test(text)
      ? "DNS lookup failed"
      : /TLS|SSL|certificate|handshake/i.test(text)
        ? "TLS failed"
        : "connection failed";
  return `${kind} to ${host}: ${text}`;
}
