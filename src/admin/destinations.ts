// The destinations as operators see them: each one's configuration (host only), and its gate's state
// (paused or active, the breaker, requests in flight), with pause and resume.

import { Hono, type Context } from "hono";
import type { AppEnv } from "../env";
import type { Destination } from "../destinations";
import { gateFor, type GateState } from "../egress/gate";
import { httpError } from "../lib/http-errors";

export interface DestinationView extends GateState {
  readonly name: string;
  readonly host: string | null;
  readonly types: readonly string[] | null;
  readonly max_per_second: number | null;
  readonly max_concurrency: number | null;
}

function configured(c: Context<AppEnv>): readonly Destination[] {
  const destinations = c.var.config.destinations;
  if (!destinations.ok) throw httpError(503, "not_configured", `${destinations.error.key} is invalid.`);
  return destinations.value;
}

async function view(c: Context<AppEnv>, d: Destination, state?: GateState): Promise<DestinationView> {
  const gate = state ?? (await gateFor(c.env, d.name).state());
  return {
    name: d.name,
    host: d.url === "" ? null : new URL(d.url).host,
    types: d.types,
    max_per_second: d.maxPerSecond,
    max_concurrency: d.maxConcurrency,
    ...gate,
  };
}

export async function destinationViews(c: Context<AppEnv>): Promise<DestinationView[]> {
  return Promise.all(configured(c).map((d) => view(c, d)));
}

export async function setPaused(c: Context<AppEnv>, name: string, paused: boolean): Promise<DestinationView> {
  const destination = configured(c).find((d) => d.name === name);
  if (destination === undefined) throw httpError(404, "not_found", `No destination named ${name}.`);
  return view(c, destination, await gateFor(c.env, name).setPaused(name, paused));
}

export const destinationsApi = new Hono<AppEnv>();

destinationsApi.get("/", async (c) => c.json({ destinations: await destinationViews(c) }));
destinationsApi.post("/:name/pause", async (c) => c.json(await setPaused(c, c.req.param("name"), true)));
destinationsApi.post("/:name/resume", async (c) => c.json(await setPaused(c, c.req.param("name"), false)));
