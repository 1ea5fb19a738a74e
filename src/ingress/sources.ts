// The routes of WEBHOOK_SOURCES: POST /webhooks/hmac/<source>, /webhooks/standard/<source> and
// /webhooks/<scheme>/<source> (so /webhooks/stripe/eu). The source must exist with the route's scheme
// (an invalid WEBHOOK_SOURCES fails closed before: require-config.ts). A generic source proves
// its one event; a provider scheme's module proves the request's items (Adyen's batch is all or
// nothing at the signature: one bad item refuses it whole), each then an event like PortOne's, or a
// hint its provider's API confirms. Payment Options' route ends with a token:
// /webhooks/payment-options/<source>/<token>.

import type { Context } from "hono";
import type { AppEnv } from "../env";
import { clock } from "../lib/clock";
import { httpError } from "../lib/http-errors";
import { ok, type Result } from "../lib/result";
import { isSchemeName } from "../providers/names";
import { provenItems, SCHEMES } from "../providers/schemes";
import { verifyHmacHeader } from "../providers/sources/hmac-header";
import type { SchemeSource, Source } from "../providers/sources/parse";
import { verifyStandardWebhook } from "../providers/sources/standard-webhooks";
import type { Rejection, VerifiedEvent } from "../providers/types";
import type { Proven, Verify } from "../providers/proven";

/** The headers the route's proof reads (lower-case), for a forward's `original`: the scheme's own, a
 *  generic source's configured ones, none for PortOne (it signs inside the body). */
export function signedHeadersOf(c: Context<AppEnv>): readonly string[] {
  const [provider, name] = [c.req.param("provider") ?? "", c.req.param("name") ?? ""];
  if (provider === "portone") return [];
  const sources = c.var.config.sources;
  const source = sources.ok ? sources.value.get(name) : undefined;
  if (source === undefined) return [];
  if (source.scheme === "hmac")
    return [source.signatureHeader, source.timestampHeader].filter((h) => h !== null).map((h) => h.toLowerCase());
  if (source.scheme === "standard") return STANDARD_HEADERS;
  return SCHEMES[source.scheme].signedHeaders;
}

const STANDARD_HEADERS = ["webhook-id", "webhook-timestamp", "webhook-signature"];

/** The verifier of the route's source; 404 when WEBHOOK_SOURCES (valid: require-config.ts) names none
 *  for the route's scheme, or the route has a token and the scheme takes none. */
export function sourceVerifier(
  c: Context<AppEnv>,
  scheme: Source["scheme"],
  name: string,
  token: string | null,
): Verify {
  const sources = c.var.config.sources;
  const source = sources.ok ? sources.value.get(name) : undefined;
  const takesToken =
    source !== undefined && isSchemeName(source.scheme) && SCHEMES[source.scheme].config?.pathToken === true;
  if (source?.scheme !== scheme || (token !== null && !takesToken))
    throw httpError(404, "unknown_source", `No ${scheme} source of that name is configured.`);
  if (source.scheme === "hmac")
    return async (raw) => oneEvent(raw, await verifyHmacHeader(raw, c.req.raw.headers, source, clock.now()));
  if (source.scheme === "standard")
    return async (raw) => oneEvent(raw, await verifyStandardWebhook(raw, c.req.raw.headers, source, clock.now()));
  return (raw) => schemeItems(raw, c.req.raw, source, token);
}

function oneEvent(raw: string, verdict: Result<VerifiedEvent, Rejection>): Result<Proven, Rejection> {
  return verdict.ok ? ok({ items: [{ event: verdict.value, content: raw }], answer: null }) : verdict;
}

/** What a provider scheme's module proves of the request; the answer is the scheme's own text, if it has one. */
async function schemeItems(
  raw: string,
  request: Request,
  source: SchemeSource,
  token: string | null,
): Promise<Result<Proven, Rejection>> {
  const scheme = SCHEMES[source.scheme];
  const proven = await scheme.verify({
    raw,
    headers: request.headers,
    secrets: source.secrets,
    toleranceSeconds: source.toleranceSeconds,
    nowMs: clock.now(),
    url: source.notificationUrl ?? request.url,
    options: source.options,
    pathToken: token,
  });
  if (!proven.ok) return proven;
  const items = await provenItems(source.scheme, source.name, raw, proven.value, source.overrides);
  return items.ok ? ok({ items: items.value, answer: scheme.answer ?? null }) : items;
}
