// ALLOWED_SOURCE_IPS: when set, only requests whose CF-Connecting-IP falls in one of the listed
// addresses or CIDR ranges reach a webhook route; others get 403 before anything else is done.
// Unset or empty means no check. An entry that does not parse fails closed (503 not_configured,
// naming the entry in the log), because silently dropping it could open or close the gateway in
// ways the merchant did not intend.

import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../env";
import { log } from "../lib/log";
import { inRange, parseCidr, parseIp, type CidrRange } from "../lib/cidr";
import { httpError } from "../lib/http-errors";

type Allowlist = { ok: true; ranges: CidrRange[] | null } | { ok: false; bad: string };

const parsed = new Map<string, Allowlist>();

export function parseAllowlist(raw: string | undefined): Allowlist {
  const key = raw ?? "";
  let list = parsed.get(key);
  if (!list) {
    const entries = key
      .split(",")
      .map((e) => e.trim())
      .filter((e) => e !== "");
    const ranges = entries.map(parseCidr);
    const badIndex = ranges.indexOf(null);
    list =
      badIndex >= 0
        ? { ok: false, bad: entries[badIndex] ?? "" }
        : { ok: true, ranges: entries.length ? (ranges as CidrRange[]) : null };
    parsed.set(key, list);
  }
  return list;
}

export function sourceAllowlist(): MiddlewareHandler<AppEnv> {
  return async function checkSourceIp(c, next) {
    const list = parseAllowlist(c.env.ALLOWED_SOURCE_IPS);
    if (!list.ok) {
      log("error", "ALLOWED_SOURCE_IPS has an entry that is not an IP or CIDR range", { entry: list.bad });
      throw httpError(503, "not_configured", "ALLOWED_SOURCE_IPS is invalid; nothing was accepted.");
    }
    if (list.ranges !== null) {
      const header = c.req.header("cf-connecting-ip");
      const ip = header === undefined ? null : parseIp(header);
      if (ip === null || !list.ranges.some((range) => inRange(ip, range))) {
        log("warn", "webhook refused: source IP not allowed", { route: c.req.path, source_ip: header ?? null });
        throw httpError(403, "forbidden_source", "This source IP is not allowed to post webhooks.");
      }
    }
    await next();
  };
}
