// The PortOne verification middleware: resolves the route's kind, refuses to run without a secret
// (fail closed: 503 so PortOne retries once the merchant sets it), verifies the bounded raw body,
// and hands the verified event to the handler. Rejections are logged with their rich reason and
// answered with one generic public error per reason.

import type { MiddlewareHandler } from "hono";
import { hmacKeyFromText } from "../lib/hmac";
import type { AppEnv } from "../env";
import { httpError } from "../lib/http-errors";
import { useVerdict } from "./rejections";
import { log } from "../lib/log";
import { SIGNED_KINDS } from "../providers/portone/kinds";
import { verifyPortOne } from "../providers/portone/verify";

/** Refuses the route unless its kind is a signed PortOne kind and a secret is configured. */
export function portOneKind(): MiddlewareHandler<AppEnv> {
  return async function requirePortOneKind(c, next) {
    const kind = SIGNED_KINDS.get(c.req.param("kind") ?? "");
    if (!kind) {
      throw httpError(
        400,
        "unknown_kind",
        "Unknown PortOne webhook kind; use payment, payment-link, subscription-link or refund.",
      );
    }
    if (c.var.config.portone.secrets.length === 0) {
      log("error", "webhook refused: PORTONE_SECRET_KEY is not configured", { route: c.req.path });
      throw httpError(503, "not_configured", "The gateway has no PortOne secret configured; nothing was accepted.");
    }
    c.set("portoneKind", kind);
    await next();
  };
}

/** Verifies the raw body against every configured key and sets the verified event. */
export function verifyPortOneWebhook(): MiddlewareHandler<AppEnv> {
  return async function verifyPortOneRequest(c, next) {
    const kind = c.var.portoneKind;
    const keys = await Promise.all(c.var.config.portone.secrets.map(hmacKeyFromText));
    useVerdict(c, await verifyPortOne(c.var.rawBody, kind, keys), { kind: kind.kind });
    await next();
  };
}
