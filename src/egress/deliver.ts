// One forwarded request to the merchant's origin: the contract's JSON envelope, signed with
// Standard Webhooks headers. The body is the same on every retry (webhook-id is the event id, so
// the origin can drop repeats); the timestamp and signature are those of the attempt.
// A 2xx answer takes the event; anything else, a redirect, an error or no answer within
// DELIVERY_TIMEOUT_MS is a failure to retry.

import { fetchWithTimeout } from "../lib/outbound";
import { DELIVERY_TIMEOUT_MS } from "./schedule";
import { signStandardWebhook, standardWebhookKey } from "../lib/standard-webhooks";

export interface ForwardEvent {
  readonly eventId: string;
  readonly provider: string;
  readonly kind: string;
  readonly objectRef: string;
  readonly status: string;
  readonly previousStatus: string | null;
  readonly receivedAt: string;
  /** Where the gateway learned the event: "webhook" or "reconciliation". */
  readonly source: string;
  /** What is proven, as stored (JSON text). */
  readonly data: string;
  /** What no signature covers (JSON text), or null. */
  readonly unverified: string | null;
}

export interface ForwardTarget {
  readonly url: string;
  readonly key: CryptoKey;
}

export type AttemptResult =
  | { readonly ok: true; readonly httpStatus: number }
  | { readonly ok: false; readonly httpStatus: number | null; readonly error: string };

/** The contract's envelope: `data` is only what was proven; the rest travels apart as `unverified`,
 *  left out when there is none. */
export function envelopeOf(event: ForwardEvent): string {
  const unverified = event.unverified === null ? null : (JSON.parse(event.unverified) as Record<string, unknown>);
  return JSON.stringify({
    id: event.eventId,
    type: `${event.provider}.${event.kind}.${event.status.toLowerCase()}`,
    provider: event.provider,
    kind: event.kind,
    object_ref: event.objectRef,
    status: event.status,
    previous_status: event.previousStatus,
    received_at: event.receivedAt,
    source: event.source,
    data: JSON.parse(event.data) as unknown,
    ...(unverified !== null && Object.keys(unverified).length > 0 ? { unverified } : {}),
  });
}

/** The origin and signing key from the environment, or why they are unusable. */
export async function forwardTarget(env: Env): Promise<ForwardTarget | { error: string }> {
  const url = originUrl(env.MERCHANT_ORIGIN_URL);
  if (url === null) {
    return {
      error: "MERCHANT_ORIGIN_URL is not set, not absolute, or http to a non-loopback host (https is required)",
    };
  }
  const key = await standardWebhookKey(env.FORWARD_SIGNING_SECRET);
  if (key === null) return { error: "FORWARD_SIGNING_SECRET is not set or not whsec_ + base64 of at least 16 bytes" };
  return { url, key };
}

function originUrl(raw: string | undefined): string | null {
  if (typeof raw !== "string" || raw.trim() === "") return null;
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    return null;
  }
  if (url.protocol === "https:") return url.href;
  const loopback =
    url.hostname === "localhost" || url.hostname === "[::1]" || /^127\.\d+\.\d+\.\d+$/.test(url.hostname);
  return url.protocol === "http:" && loopback ? url.href : null;
}

export async function deliverOnce(
  target: ForwardTarget,
  event: ForwardEvent,
  nowMs: number,
  timeoutMs: number = DELIVERY_TIMEOUT_MS,
): Promise<AttemptResult> {
  const body = envelopeOf(event);
  const timestamp = Math.floor(nowMs / 1000);
  const headers = {
    "content-type": "application/json",
    "user-agent": "edge-webhook-gateway",
    "webhook-id": event.eventId,
    "webhook-timestamp": String(timestamp),
    "webhook-signature": await signStandardWebhook(target.key, event.eventId, timestamp, body),
  };
  try {
    const response = await fetchWithTimeout(
      target.url,
      { method: "POST", headers, body, redirect: "manual" },
      timeoutMs,
    );
    await response.body?.cancel();
    if (response.status >= 200 && response.status < 300) return { ok: true, httpStatus: response.status };
    return { ok: false, httpStatus: response.status, error: `origin answered ${response.status}` };
  } catch (err) {
    return { ok: false, httpStatus: null, error: describeFailure(err, timeoutMs) };
  }
}

function describeFailure(err: unknown, timeoutMs: number): string {
  if (err instanceof Error && (err.name === "TimeoutError" || err.name === "AbortError")) {
    return `no answer within ${timeoutMs} ms`;
  }
  const message = err instanceof Error ? `${err.name}: ${err.message}` : "unknown error";
  return message.slice(0, 200);
}
