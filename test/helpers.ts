// Shared test helpers: sign fixtures with the same code that verifies them, send them to the
// Worker inside workerd, and look into the real KV and Durable Object storage.

import { listDurableObjectIds, runInDurableObject } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { ledgerFor } from "../src/ledger/client";
import { PAYMENT, PAYMENT_LINK, SUBSCRIPTION_LINK, type PortOneKind } from "../src/providers/portone/kinds";
import { signedEventId } from "../src/providers/portone/signed-content";
import { withSignature } from "../src/providers/portone/sign";
import { canonicalMessage } from "../src/providers/portone/verify";
import { positionOf, type Lifecycle } from "../src/providers/types";
import { paymentLinkSample, paymentSample, subscriptionLinkSample } from "../fixtures/portone-samples";

/** The secret the spec's vectors use, configured for the tests in vitest.config.ts. */
export const SECRET = "PORTONE_SECRET";
export const BASE = "https://gateway.test";

export const KINDS = {
  payment: PAYMENT,
  "payment-link": PAYMENT_LINK,
  "subscription-link": SUBSCRIPTION_LINK,
} as const;
export type Slug = keyof typeof KINDS;
const SAMPLES: Record<Slug, Readonly<Record<string, unknown>>> = {
  payment: paymentSample,
  "payment-link": paymentLinkSample,
  "subscription-link": subscriptionLinkSample,
};

let counter = 0;
/** A reference no other test uses, so tests never share a Durable Object. */
export function uniqueRef(prefix = "ref"): string {
  counter += 1;
  return `${prefix}_${Date.now().toString(36)}_${counter}_${crypto.randomUUID().slice(0, 8)}`;
}

/** The kind's sample payload with overrides, signed with the test secret. */
export async function signedPayload(
  slug: Slug,
  overrides: Record<string, unknown> = {},
): Promise<Record<string, unknown>> {
  return withSignature({ ...SAMPLES[slug], ...overrides }, KINDS[slug], SECRET);
}

/** A new, distinct object of the kind, signed; `ref` names it. */
export async function eventFor(slug: Slug, ref: string, status: string, extra: Record<string, unknown> = {}) {
  const refField = KINDS[slug].objectRefField;
  return signedPayload(slug, { [refField]: ref, status, ...extra });
}

/** The event id the gateway gives a signed PortOne body: its kind and signed fields only. */
export async function portOneEventId(slug: Slug, payload: Record<string, unknown>): Promise<string> {
  const canonical = canonicalMessage(payload, KINDS[slug]);
  if (!canonical.ok) throw new TypeError(canonical.error.detail);
  return signedEventId(KINDS[slug], canonical.value);
}

export function post(path: string, body: string | Record<string, unknown>, init: RequestInit = {}): Promise<Response> {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  return exports.default.fetch(`${BASE}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: text,
    ...init,
  });
}

export function deliver(slug: Slug, payload: string | Record<string, unknown>): Promise<Response> {
  return post(`/webhooks/portone/${slug}`, payload);
}

export async function resultOf(response: Response): Promise<string> {
  const body = await response.json<{ result?: string; error?: string }>();
  return body.result ?? `error:${body.error}`;
}

/** Every Durable Object the test run has created so far. */
export async function ledgerCount(): Promise<number> {
  return (await listDurableObjectIds(env.LEDGER)).length;
}

export async function kvKeyCount(): Promise<number> {
  return (await env.SEEN.list()).keys.length;
}

export function ledgerOf(kind: PortOneKind, ref: string) {
  return ledgerFor(env, "portone", kind.kind, ref);
}

export interface EventRowView {
  seq: number;
  event_id: string;
  status: string;
  outcome: string;
  previous_status: string | null;
}

/** The object's stored history and state, read straight from its SQLite storage. */
export async function storedObject(kind: PortOneKind, ref: string) {
  return runInDurableObject(ledgerOf(kind, ref), (_instance, state) => {
    const sql = state.storage.sql;
    const events = sql
      .exec<EventRowView & Record<string, SqlStorageValue>>(
        "SELECT seq, event_id, status, outcome, previous_status FROM events ORDER BY seq",
      )
      .toArray();
    const objectState = sql
      .exec<{ status: string; terminal: number }>("SELECT status, terminal FROM object_state")
      .toArray()[0];
    return { events: events.map((e) => ({ ...e })), state: objectState ? { ...objectState } : null };
  });
}

/** HMAC-SHA256 straight from WebCrypto, independent of the gateway's crypto module: a referee. */
export async function referenceHmac(secret: string, message: string): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  return new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(message)));
}

/** A sequence of statuses is a path of the lifecycle: known ranks never go down, nothing follows a terminal. */
export function isPathOf(lifecycle: Lifecycle, statuses: readonly string[]): boolean {
  let rank = -1;
  for (const [i, status] of statuses.entries()) {
    const position = positionOf(lifecycle, status);
    if (position.terminal) return i === statuses.length - 1;
    if (position.rank !== null) {
      if (position.rank < rank) return false;
      rank = position.rank;
    }
  }
  return true;
}
