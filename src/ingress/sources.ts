// The routes of WEBHOOK_SOURCES: POST /webhooks/hmac/<source>, /webhooks/standard/<source> and
// /webhooks/<scheme>/<source> (so /webhooks/stripe/eu). The source must exist with the route's scheme
// (an invalid WEBHOOK_SOURCES fails closed before: require-config.ts). A generic source proves
// its one event; a provider scheme's module proves the request's items (Adyen's batch is all or
// nothing at the signature: one bad item refuses it whole), each then an event like PortOne's.

import type { Context } from "hono";
import type { AppEnv } from "../env";
import { clock } from "../lib/clock";
import { httpError } from "../lib/http-errors";
import { ok, type Result } from "../lib/result";
import { stableStringify } from "../providers/event-id";
import { SCHEMES, schemeEvents } from "../providers/schemes";
import { verifyHmacHeader } from "../providers/sources/hmac-header";
import type { SchemeSource, Source } from "../providers/sources/parse";
import { verifyStandardWebhook } from "../providers/sources/standard-webhooks";
import type { Rejection, VerifiedEvent } from "../providers/types";
import type { Proven, Verify } from "../providers/proven";

/** The verifier of the route's source; 404 when WEBHOOK_SOURCES (valid: require-config.ts) names none. */
export function sourceVerifier(c: Context<AppEnv>, scheme: Source["scheme"], name: string): Verify {
  const sources = c.var.config.sources;
  const source = sources.ok ? sources.value.get(name) : undefined;
  if (source?.scheme !== scheme)
    throw httpError(404, "unknown_source", `No ${scheme} source of that name is configured.`);
  if (source.scheme === "hmac")
    return async (raw) => oneEvent(raw, await verifyHmacHeader(raw, c.req.raw.headers, source, clock.now()));
  if (source.scheme === "standard")
    return async (raw) => oneEvent(raw, await verifyStandardWebhook(raw, c.req.raw.headers, source, clock.now()));
  return (raw) => schemeItems(raw, c.req.raw, source);
}

function oneEvent(raw: string, verdict: Result<VerifiedEvent, Rejection>): Result<Proven, Rejection> {
  return verdict.ok ? ok({ items: [{ event: verdict.value, content: raw }], answer: null }) : verdict;
}

/** A provider scheme's proven items, each an event. A batch's items are named by their own content,
 *  a single event by the request's bytes; the answer is the scheme's own text, if it has one. */
async function schemeItems(raw: string, request: Request, source: SchemeSource): Promise<Result<Proven, Rejection>> {
  const scheme = SCHEMES[source.scheme];
  const proven = await scheme.verify({
    raw,
    headers: request.headers,
    secrets: source.secrets,
    toleranceSeconds: source.toleranceSeconds,
    nowMs: clock.now(),
    url: source.notificationUrl ?? request.url,
  });
  if (!proven.ok) return proven;
  const events = await schemeEvents(source.scheme, source.name, proven.value, source.overrides);
  if (!events.ok) return events;
  const content = (e: VerifiedEvent): string =>
    scheme.batch ? stableStringify({ data: e.data, unverified: e.unverified }) : raw;
  const items = events.value.map((event) => ({ event, content: content(event) }));
  return ok({ items, answer: scheme.answer ?? null });
}
