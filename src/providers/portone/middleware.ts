// The PortOne verification middleware: resolves the route's kind, refuses to run without a secret
// (fail closed: 503 so PortOne retries once the merchant sets it), verifies the bounded raw body,
// and hands the verified event to the handler. Rejections are logged with their rich reason and
// answered with one generic public error per reason.

import type { MiddlewareHandler } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { portOneSecrets } from "../../config";
import { hmacKeyFromText } from "../../crypto/hmac";
import type { AppEnv } from "../../env";
import { httpError } from "../../http/errors";
import { log } from "../../log";
import type { RejectReason } from "../types";
import { SIGNED_KINDS } from "./kinds";
import { verifyPortOne } from "./verify";

export const PUBLIC_REJECTIONS: Record<RejectReason, { status: ContentfulStatusCode; message: string }> = {
  invalid_json: { status: 400, message: "The body is not valid JSON." },
  not_an_object: { status: 400, message: "The body must be a JSON object." },
  too_deep: { status: 400, message: "The JSON body is nested too deeply." },
  duplicate_field: { status: 400, message: "A signed field appears more than once." },
  case_variant_field: { status: 400, message: "A field differs from a signed field only in letter case." },
  invalid_field_type: { status: 400, message: "A signed field has the wrong JSON type." },
  missing_object_ref: { status: 400, message: "The payload names no payment object." },
  missing_status: { status: 400, message: "The payload has no status." },
  missing_signature: { status: 401, message: "signature_hash is missing." },
  bad_signature: {
    status: 401,
    message: "signature_hash does not match. Is PORTONE_SECRET_KEY the Secret Key of this environment (sandbox or live)?",
  },
};

/** Refuses the route unless its kind is a signed PortOne kind and a secret is configured. */
export function portOneKind(): MiddlewareHandler<AppEnv> {
  return async function requirePortOneKind(c, next) {
    const slug = c.req.param("kind") ?? "";
    if (!SIGNED_KINDS.has(slug)) {
      throw httpError(400, "unknown_kind", "Unknown PortOne webhook kind; use payment, payment-link, subscription-link or refund.");
    }
    if (portOneSecrets(c.env).length === 0) {
      log("error", "webhook refused: PORTONE_SECRET_KEY is not configured", { route: c.req.path });
      throw httpError(503, "not_configured", "The gateway has no PortOne secret configured; nothing was accepted.");
    }
    await next();
  };
}

/** Verifies the raw body against every configured key and sets the verified event. */
export function verifyPortOneWebhook(): MiddlewareHandler<AppEnv> {
  return async function verifyPortOneRequest(c, next) {
    const kind = SIGNED_KINDS.get(c.req.param("kind") ?? "");
    if (!kind) throw new Error("verifyPortOneWebhook mounted without portOneKind()");
    const keys = await Promise.all(portOneSecrets(c.env).map(hmacKeyFromText));
    const verdict = await verifyPortOne(c.var.rawBody, kind, keys);
    if (!verdict.ok) {
      const { reason, detail } = verdict.rejection;
      log("warn", "webhook rejected", { route: c.req.path, kind: kind.kind, reason, detail });
      const { status, message } = PUBLIC_REJECTIONS[reason];
      throw httpError(status, reason, message);
    }
    c.set("event", verdict.event);
    await next();
  };
}
