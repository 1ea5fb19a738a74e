// The one shape of every route under /webhooks/: POST /webhooks/<provider>/<name> is resolved before
// its body is read (the route's verifier, or why it fails closed: unknown kind or source, missing or
// invalid configuration), then the bounded raw body is proven by that verifier, and one handler
// (record.ts) records what it proved and answers as the provider expects. A rejection is logged with
// its rich reason and answered with its public error; nothing of it is stored.

import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../env";
import { notFound } from "../lib/http-errors";
import { isSchemeName } from "../providers/names";
import { portOneVerifier } from "./portone";
import { refuse } from "./rejections";
import { sourceVerifier } from "./sources";

/** Resolves the route's verifier before the body is read; fails closed, or 404 for no such route. */
export function resolveWebhook(): MiddlewareHandler<AppEnv> {
  return async function resolveWebhookRoute(c, next) {
    const [provider, name] = [c.req.param("provider") ?? "", c.req.param("name") ?? ""];
    const verify =
      provider === "portone"
        ? portOneVerifier(c, name)
        : provider === "hmac" || provider === "standard" || isSchemeName(provider)
          ? sourceVerifier(c, provider, name)
          : null;
    if (verify === null) return notFound(c);
    c.set("verify", verify);
    await next();
  };
}

/** Proves the raw body with the route's verifier: what it proved goes to the handler. */
export function verifyWebhook(): MiddlewareHandler<AppEnv> {
  return async function verifyWebhookBody(c, next) {
    const proven = await c.var.verify(c.var.rawBody);
    if (!proven.ok) refuse(c, proven.error, { provider: c.req.param("provider"), name: c.req.param("name") });
    c.set("proven", proven.value);
    await next();
  };
}
