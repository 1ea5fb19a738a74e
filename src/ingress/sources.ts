// Routes of the generic sources: POST /webhooks/hmac/:source and /webhooks/standard/:source.
// The source must exist in WEBHOOK_SOURCES with the route's scheme; an invalid configuration fails
// closed (503, the bad key named in the log). A verified request becomes an event exactly like
// PortOne's: deduplicated, recorded in its object's ledger, and forwarded.

import type { MiddlewareHandler } from "hono";
import { clock } from "../lib/clock";
import type { AppEnv } from "../env";
import { describeConfigError } from "../lib/config-error";
import { httpError } from "../lib/http-errors";
import { useVerdict } from "./rejections";
import { log } from "../lib/log";
import type { Source } from "../providers/sources/parse";
import { verifyHmacHeader } from "../providers/sources/hmac-header";
import { verifyStandardWebhook } from "../providers/sources/standard-webhooks";

/** Resolves :source for the route's scheme (before the body is read). */
export function requireSource(scheme: Source["scheme"]): MiddlewareHandler<AppEnv> {
  return async function resolveSource(c, next) {
    const sources = c.var.config.sources;
    if (!sources.ok) {
      log("error", "WEBHOOK_SOURCES is invalid; generic sources refuse every webhook", {
        key: sources.error.key,
        error: describeConfigError(sources.error),
      });
      throw httpError(503, "not_configured", "WEBHOOK_SOURCES is invalid; nothing was accepted.");
    }
    const source = sources.value.get(c.req.param("source") ?? "");
    if (source?.scheme !== scheme)
      throw httpError(404, "unknown_source", `No ${scheme} source of that name is configured.`);
    c.set("source", source);
    await next();
  };
}

export function verifySourceWebhook(): MiddlewareHandler<AppEnv> {
  return async function verifySourceRequest(c, next) {
    const source = c.var.source;
    const headers = c.req.raw.headers;
    const verdict =
      source.scheme === "hmac"
        ? await verifyHmacHeader(c.var.rawBody, headers, source, clock.now())
        : source.scheme === "standard"
          ? await verifyStandardWebhook(c.var.rawBody, headers, source, clock.now())
          : null;
    if (verdict === null) throw new Error(`${source.scheme} is a provider scheme (ingress/schemes.ts)`); // never: routed apart
    useVerdict(c, verdict, { source: source.name });
    await next();
  };
}
