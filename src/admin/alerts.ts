// GET /admin/alerts?state=open|resolved: the alerts, newest first, from the alerts Durable Object
// (alerts/alerts.ts), which holds them; and what is wrong with ALERTS, if anything, for the console.

import { Hono } from "hono";
import type { Config } from "../config";
import type { AppEnv } from "../env";
import { alertStore } from "../alerts/report";
import { describeConfigError } from "../lib/config-error";
import { httpError } from "../lib/http-errors";

export const alertsApi = new Hono<AppEnv>();

alertsApi.get("/", async (c) => {
  const state = c.req.query("state");
  if (state !== undefined && state !== "open" && state !== "resolved")
    throw httpError(400, "invalid_filter", "state is open or resolved.");
  const limit = Number(c.req.query("limit") ?? 100);
  if (!Number.isInteger(limit) || limit < 1 || limit > 500)
    throw httpError(400, "invalid_filter", "limit is a whole number from 1 to 500.");
  const alerts = await alertStore(c.env).list(state, limit);
  return c.json({ alerts, ...(alertsProblem(c.var.config) === null ? {} : { problem: alertsProblem(c.var.config) }) });
});

/** What is wrong with ALERTS (naming the key), or null when it is usable or unset. */
export function alertsProblem(config: Config): string | null {
  return config.alerts.ok ? null : describeConfigError(config.alerts.error);
}
