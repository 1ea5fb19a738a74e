// Every check of configuration a webhook meets before anything else, in one place. The source-IP
// allowlist (ALLOWED_SOURCE_IPS): when set, a request from elsewhere is 403 forbidden_source. Then the
// fail-closed answers, 503 not_configured (the provider retries once it is fixed), the variable or bad
// key named in the log: an allowlist entry that does not parse, a value published in .dev.vars.example
// outside `npm run dev` (config/examples.ts), DESTINATIONS invalid, and the route's own provider left
// unconfigured (PortOne's routes without PORTONE_SECRET_KEY, the sources' while WEBHOOK_SOURCES is invalid).

import type { Context, MiddlewareHandler } from "hono";
import type { AppEnv } from "../env";
import { inRange, parseIp } from "../lib/cidr";
import { describeConfigError } from "../lib/config-error";
import { httpError, notConfigured } from "../lib/http-errors";
import { log } from "../lib/log";
import { isSchemeName } from "../providers/names";
import { loggedRoute } from "./rejections";

export function requireConfig(): MiddlewareHandler<AppEnv> {
  return async function checkConfig(c, next) {
    checkSourceIp(c);
    const { examples, destinations } = c.var.config;
    if (examples.length > 0) {
      throw notConfigured("The gateway is not configured for production; nothing was accepted.", {
        message: "webhook refused: a variable holds a value published in .dev.vars.example",
        fields: { route: loggedRoute(c), variables: examples.join(", ") },
      });
    }
    // An event recorded without knowing its destinations could miss one for good.
    if (!destinations.ok) {
      throw notConfigured("DESTINATIONS is invalid; nothing was accepted.", {
        message: "DESTINATIONS is invalid; every webhook is refused",
        fields: { ...destinations.error },
      });
    }
    checkProvider(c);
    await next();
  };
}

function checkSourceIp(c: Context<AppEnv>): void {
  const list = c.var.config.allowlist;
  if (!list.ok) {
    throw notConfigured("ALLOWED_SOURCE_IPS is invalid; nothing was accepted.", {
      message: "ALLOWED_SOURCE_IPS has an entry that is not an IP or CIDR range",
      fields: { ...list.error },
    });
  }
  if (list.value === null) return;
  const header = c.req.header("cf-connecting-ip");
  const ip = header === undefined ? null : parseIp(header);
  if (ip === null || !list.value.some((range) => inRange(ip, range))) {
    log("warn", "webhook refused: source IP not allowed", { route: loggedRoute(c), source_ip: header ?? null });
    throw httpError(403, "forbidden_source", "This source IP is not allowed to post webhooks.");
  }
}

/** The route's provider, by the path's segment after /webhooks/: PortOne's needs its secret, every
 *  other one (a generic source or a provider scheme) a valid WEBHOOK_SOURCES. */
function checkProvider(c: Context<AppEnv>): void {
  const provider = c.req.path.split("/")[2] ?? "";
  const { portone, sources } = c.var.config;
  if (provider === "portone" && portone.secrets.length === 0) {
    throw notConfigured("The gateway has no PortOne secret configured; nothing was accepted.", {
      message: "webhook refused: PORTONE_SECRET_KEY is not configured",
      fields: { route: loggedRoute(c) },
    });
  }
  const source = provider === "hmac" || provider === "standard" || isSchemeName(provider);
  if (source && !sources.ok) {
    throw notConfigured("WEBHOOK_SOURCES is invalid; nothing was accepted.", {
      message: "WEBHOOK_SOURCES is invalid; generic sources refuse every webhook",
      fields: { key: sources.error.key, error: describeConfigError(sources.error) },
    });
  }
}
