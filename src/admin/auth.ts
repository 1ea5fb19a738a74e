// The operator API is closed unless configured: without ADMIN_TOKEN every /admin route answers
// 404, as if it did not exist. With it, `Authorization: Bearer <token>` is compared in constant
// time; anything else is 401.

import type { MiddlewareHandler } from "hono";
import { secretMatches } from "../lib/hmac";
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
    if (!(await secretMatches(given, token))) {
      log("warn", "admin request refused", { path: c.req.path, method: c.req.method });
      throw httpError(401, "unauthorized", "A valid Authorization: Bearer <ADMIN_TOKEN> header is required.", {
        "WWW-Authenticate": 'Bearer realm="admin"',
      });
    }
    await next();
  };
}
