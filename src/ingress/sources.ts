// The routes of WEBHOOK_SOURCES: POST /webhooks/hmac/<source>, /webhooks/standard/<source> and
// /webhooks/<scheme>/<source> (so /webhooks/stripe/eu). The source must exist with the route's scheme;
// an invalid configuration fails closed (503, the bad key named in the log). A generic source proves
// its one event; a provider scheme's module proves the request's items (Adyen's batch is all or
// nothing at the signature: one bad item refuses it whole), each then an event like PortOne's.

import type { Context } from "hono";
import type { AppEnv } from "../env";
import { clock } from "../lib/clock";
import { describeConfigError } from "../lib/config-error";
import { sha256Hex } from "../lib/hmac";
import { httpError, notConfigured } from "../lib/http-errors";
import { ok, type Result } from "../lib/result";
import { stableStringify } from "../providers/event-id";
import { SCHEMES, schemeEvents } from "../providers/schemes";
import { verifyHmacHeader } from "../providers/sources/hmac-header";
import type { SchemeSource, Source } from "../providers/sources/parse";
import { verifyStandardWebhook } from "../providers/sources/standard-webhooks";
import type { Rejection, VerifiedEvent } from "../providers/types";
import type { Proven, Verify } from "../providers/proven";

/** The verifier of the route's source; throws while WEBHOOK_SOURCES is invalid or names no such source. */
export function sourceVerifier(c: Context<AppEnv>, scheme: Source["scheme"], name: string): Verify {
  const sources = c.var.config.sources;
  if (!sources.ok) {
    throw notConfigured("WEBHOOK_SOURCES is invalid; nothing was accepted.", {
      message: "WEBHOOK_SOURCES is invalid; generic sources refuse every webhook",
      fields: { key: sources.error.key, error: describeConfigError(sources.error) },
    });
  }
  const source = sources.value.get(name);
  if (source?.scheme !== scheme)
    throw httpError(404, "unknown_source", `No ${scheme} source of that name is configured.`);
  if (source.scheme === "hmac")
    return async (raw) => oneEvent(raw, await verifyHmacHeader(raw, c.req.raw.headers, source, clock.now()));
  if (source.scheme === "standard")
    return async (raw) => oneEvent(raw, await verifyStandardWebhook(raw, c.req.raw.headers, source, clock.now()));
  return (raw) => schemeItems(raw, c.req.raw, source);
}

async function oneEvent(raw: string, verdict: Result<VerifiedEvent, Rejection>): Promise<Result<Proven, Rejection>> {
  if (!verdict.ok) return verdict;
  return ok({ items: [{ event: verdict.value, contentHash: await sha256Hex(raw) }], answer: null });
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
  const contentHash = (e: VerifiedEvent): Promise<string> =>
    sha256Hex(scheme.batch ? stableStringify({ data: e.data, unverified: e.unverified }) : raw);
  const items = await Promise.all(
    events.value.map(async (event) => ({ event, contentHash: await contentHash(event) })),
  );
  return ok({ items, answer: scheme.answer ?? null });
}
