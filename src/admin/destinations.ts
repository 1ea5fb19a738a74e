// The destinations as operators see them: each one's configuration (host only), its backlog (events
// waiting for it, from the read model) and its gate's state (paused or active, the breaker, requests
// in flight), with pause and resume.

import { Hono, type Context } from "hono";
import type { AppEnv } from "../env";
import type { Destination } from "../destinations";
import { gateFor, type GateState } from "../egress/gate";
import { httpError } from "../lib/http-errors";
import { pendingByDestination } from "../readmodel/queries";

export interface DestinationView extends GateState {
  readonly name: string;
  readonly host: string | null;
  readonly types: readonly string[] | null;
  readonly max_per_second: number | null;
  readonly max_concurrency: number | null;
  /** Events waiting for it, as of the read model (which trails the ledgers by seconds). */
  readonly pending: number;
}

function configured(c: Context<AppEnv>): readonly Destination[] {
  const destinations = c.var.config.destinations;
  if (!destinations.ok) throw httpError(503, "not_configured", `${destinations.error.key} is invalid.`);
  return destinations.value;
}

async function view(c: Context<AppEnv>, d: Destination, pending: number, state?: GateState): Promise<DestinationView> {
  const gate = state ?? (await gateFor(c.env, d.name).state());
  return {
    name: d.name,
    host: d.url === "" ? null : new URL(d.url).host,
    types: d.types,
    max_per_second: d.maxPerSecond,
    max_concurrency: d.maxConcurrency,
    pending,
    ...gate,
  };
}

export async function destinationViews(c: Context<AppEnv>): Promise<DestinationView[]> {
  const destinations = configured(c);
  const pending = await pendingByDestination(
    c.env.READ_MODEL,
    destinations.map((d) => d.name),
  );
  return Promise.all(destinations.map((d) => view(c, d, pending.get(d.name) ?? 0)));
}

export async function setPaused(c: Context<AppEnv>, name: string, paused: boolean): Promise<DestinationView> {
  const destination = configured(c).find((d) => d.name === name);
  if (destination === undefined) throw httpError(404, "not_found", `No destination named ${name}.`);
  const pending = await pendingByDestination(c.env.READ_MODEL, [name]);
  return view(c, destination, pending.get(name) ?? 0, await gateFor(c.env, name).setPaused(name, paused));
}

export const destinationsApi = new Hono<AppEnv>();

destinationsApi.get("/", async (c) => c.json({ destinations: await destinationViews(c) }));
destinationsApi.post("/:name/pause", async (c) => c.json(await setPaused(c, c.req.param("name"), true)));
destinationsApi.post("/:name/resume", async (c) => c.json(await setPaused(c, c.req.param("name"), false)));
