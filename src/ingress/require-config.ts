// Refuses every webhook while the configuration cannot be trusted to handle it: a published example
// secret outside `npm run dev` (config/examples.ts), or DESTINATIONS invalid. Fails closed with 503
// not_configured (the provider retries once it is fixed), the variable or bad key named in the log.

import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../env";
import { notConfigured } from "../lib/http-errors";

export function requireConfig(): MiddlewareHandler<AppEnv> {
  return async function checkConfig(c, next) {
    const { examples, destinations } = c.var.config;
    if (examples.length > 0) {
      throw notConfigured("The gateway is not configured for production; nothing was accepted.", {
        message: "webhook refused: a variable holds a value published in .dev.vars.example",
        fields: { route: c.req.path, variables: examples.join(", ") },
      });
    }
    // An event recorded without knowing its destinations could miss one for good.
    if (!destinations.ok) {
      throw notConfigured("DESTINATIONS is invalid; nothing was accepted.", {
        message: "DESTINATIONS is invalid; every webhook is refused",
        fields: { ...destinations.error },
      });
    }
    await next();
  };
}
