// Across objects, from the read model (D1), which trails the ledgers by seconds: search and list
// events, count them, list dead letters. (Bulk redelivery of what a filter matches: redeliver.ts.)

import { Hono } from "hono";
import type { AppEnv } from "../env";
import { httpError } from "../lib/http-errors";
import { parseTime } from "../readmodel/filters";
import { listEvents, statsSince } from "../readmodel/queries";
import { filterOf, pageArgs } from "./request-filters";
import { clock } from "../lib/clock";
import { DAY_MS } from "../lib/time";

export const search = new Hono<AppEnv>();

search.get("/events", async (c) => {
  const query = c.req.query();
  const { limit, after } = pageArgs(query.limit, query.cursor);
  return c.json(await listEvents(c.env.READ_MODEL, filterOf(query), limit, after));
});

search.get("/stats", async (c) => {
  const sinceText = c.req.query("since");
  const since = sinceText === undefined ? clock.now() - DAY_MS : parseTime(sinceText);
  if (since === null) throw httpError(400, "invalid_filter", "since must be an ISO 8601 time or epoch milliseconds");
  return c.json(await statsSince(c.env.READ_MODEL, since));
});

search.get("/dead-letters", async (c) => {
  const { limit, after } = pageArgs(c.req.query("limit"), c.req.query("cursor"));
  const page = await listEvents(c.env.READ_MODEL, { delivery: "dead" }, limit, after);
  return c.json({ dead_letters: page.events, next_cursor: page.next_cursor });
});
