// ALLOWED_SOURCE_IPS: when set, only requests whose CF-Connecting-IP falls in one of the listed
// addresses or CIDR ranges reach a webhook route; others get 403 before anything else is done.
// Unset or empty means no check. An entry that does not parse fails closed (503 not_configured,
// naming the entry in the log; config/ validates the list once).

import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../env";
import { log } from "../lib/log";
import { inRange, parseIp } from "../lib/cidr";
import { httpError, notConfigured } from "../lib/http-errors";

export function sourceAllowlist(): MiddlewareHandler<AppEnv> {
  return async function checkSourceIp(c, next) {
    const list = c.var.config.allowlist;
    if (!list.ok) {
      throw notConfigured("ALLOWED_SOURCE_IPS is invalid; nothing was accepted.", {
        message: "ALLOWED_SOURCE_IPS has an entry that is not an IP or CIDR range",
        fields: { ...list.error },
      });
    }
    const ranges = list.value;
    if (ranges !== null) {
      const header = c.req.header("cf-connecting-ip");
      const ip = header === undefined ? null : parseIp(header);
      if (ip === null || !ranges.some((range) => inRange(ip, range))) {
        log("warn", "webhook refused: source IP not allowed", { route: c.req.path, source_ip: header ?? null });
        throw httpError(403, "forbidden_source", "This source IP is not allowed to post webhooks.");
      }
    }
    await next();
  };
}
