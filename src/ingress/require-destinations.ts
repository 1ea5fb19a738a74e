// Refuses every webhook while DESTINATIONS is invalid.

import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../env";
import { httpError } from "../lib/http-errors";
import { log } from "../lib/log";

/** DESTINATIONS must be valid before anything is accepted: an event recorded without knowing its
 *  destinations could miss one for good. Fails closed (503, the bad key named in the log). */
export function requireDestinations(): MiddlewareHandler<AppEnv> {
  return async function checkDestinations(c, next) {
    const destinations = c.var.config.destinations;
    if (!destinations.ok) {
      log("error", "DESTINATIONS is invalid; every webhook is refused", { ...destinations.error });
      throw httpError(503, "not_configured", "DESTINATIONS is invalid; nothing was accepted.");
    }
    await next();
  };
}
