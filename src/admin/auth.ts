// The operator API is closed unless configured: without ADMIN_TOKEN every /admin route answers
// 404, as if it did not exist. With it, `Authorization: Bearer <token>` is compared in constant
// time; anything else is 401.

import type { MiddlewareHandler } from "hono";
import { sha256Hex, timingSafeEqualText } from "../lib/hmac";
import type { AppEnv } from "../env";
import { httpError } from "../lib/http-errors";
import { log } from "../lib/log";

export function adminAuth(): MiddlewareHandler<AppEnv> {
  return async function requireAdminToken(c, next) {
    const token = c.var.config.adminToken;
    if (token === undefined) {
      throw httpError(404, "not_found", `No route for ${c.req.method} ${c.req.path}.`);
    }
    const given = /^Bearer (.+)$/.exec(c.req.header("authorization") ?? "")?.[1] ?? "";
    // Digests first, so the comparison's time does not even reveal the token's length.
    if (!timingSafeEqualText(await sha256Hex(given), await sha256Hex(token))) {
      log("warn", "admin request refused", { path: c.req.path, method: c.req.method });
      throw httpError(401, "unauthorized", "A valid Authorization: Bearer <ADMIN_TOKEN> header is required.", {
        "WWW-Authenticate": 'Bearer realm="admin"',
      });
    }
    await next();
  };
}
