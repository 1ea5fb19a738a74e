// Refuses every webhook while the configuration cannot be trusted to handle it: a published example
// secret outside `npm run dev` (config/examples.ts), or DESTINATIONS invalid. Fails closed with 503
// not_configured (the provider retries once it is fixed), the variable or bad key named in the log.

import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../env";
import { httpError } from "../lib/http-errors";
import { log } from "../lib/log";

export function requireConfig(): MiddlewareHandler<AppEnv> {
  return async function checkConfig(c, next) {
    const { examples, destinations } = c.var.config;
    if (examples.length > 0) {
      log("error", "webhook refused: a variable holds a value published in .dev.vars.example", {
        route: c.req.path,
        variables: examples.join(", "),
      });
      throw httpError(503, "not_configured", "The gateway is not configured for production; nothing was accepted.");
    }
    // An event recorded without knowing its destinations could miss one for good.
    if (!destinations.ok) {
      log("error", "DESTINATIONS is invalid; every webhook is refused", { ...destinations.error });
      throw httpError(503, "not_configured", "DESTINATIONS is invalid; nothing was accepted.");
    }
    await next();
  };
}
