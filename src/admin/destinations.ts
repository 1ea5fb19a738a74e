// The destinations as operators see them: each one's configuration (host only), its backlog (events
// waiting for it, from the read model) and its gate's state (paused or active, the breaker, requests
// in flight), with pause and resume. The gate is the authority on a destination's state; the backlog
// is best-effort: with the read model unavailable it is null, and pause and resume still work.

import { Hono, type Context } from "hono";
import type { AppEnv } from "../env";
import type { Destination } from "../config/destinations";
import { gateFor, type GateState } from "../egress/gate";
import { forgetLeases } from "../egress/gate-lease";
import { ledgerOf } from "../ledger/client";
import { objectNameOf } from "../providers/names";
import { clock } from "../lib/clock";
import { GATEWAY_PROVIDER } from "../providers/names";
import { httpError, notConfigured, storageUnavailable } from "../lib/http-errors";
import { log } from "../lib/log";
import { errorText } from "../lib/result";
import { pendingByDestination } from "../readmodel/queries";

export interface DestinationView extends GateState {
  readonly name: string;
  readonly host: string | null;
  readonly types: readonly string[] | null;
  readonly max_per_second: number | null;
  readonly max_concurrency: number | null;
  /** Events waiting for it, as of the read model (which trails the ledgers by seconds); null when
   *  the read model could not be asked. */
  readonly pending: number | null;
}

function configured(c: Context<AppEnv>): readonly Destination[] {
  const destinations = c.var.config.destinations;
  if (!destinations.ok) throw notConfigured(`${destinations.error.key} is invalid.`);
  return destinations.value;
}

async function view(
  c: Context<AppEnv>,
  d: Destination,
  pending: number | null,
  state?: GateState,
): Promise<DestinationView> {
  const gate = state ?? (await gateFor(c.env, d.name).state(d.name));
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

/** Each destination's backlog from the read model, or null for all when it cannot be asked (logged). */
async function backlog(env: Env, names: readonly string[]): Promise<(name: string) => number | null> {
  try {
    const pending = await pendingByDestination(env.READ_MODEL, names);
    return (name) => pending.get(name) ?? 0;
  } catch (thrown) {
    log("warn", "destinations' backlog unknown: the read model failed", { error: errorText(thrown) });
    return () => null;
  }
}

export async function destinationViews(c: Context<AppEnv>): Promise<DestinationView[]> {
  const destinations = configured(c);
  const pending = await backlog(
    c.env,
    destinations.map((d) => d.name),
  );
  return Promise.all(destinations.map((d) => view(c, d, pending(d.name))));
}

export async function setPaused(c: Context<AppEnv>, name: string, paused: boolean): Promise<DestinationView> {
  const destination = configured(c).find((d) => d.name === name);
  if (destination === undefined) throw httpError(404, "not_found", `No destination named ${name}.`);
  const state = await gateFor(c.env, name).setPaused(name, paused);
  forgetLeases(name); // this isolate's objects ask the gate again at once (others when their lease ends)
  const pending = await backlog(c.env, [name]);
  return view(c, destination, pending(name), state);
}

export interface TestEvent {
  readonly event_id: string;
  /** The object it is recorded on: gateway:test:<destination> (its timeline shows the attempt). */
  readonly object: string;
}

/** Records a `gateway.test` event for one destination only, forwarded and signed like any event, so an
 *  operator can check a new destination (its URL, its secret, the origin's verification) before a
 *  provider sends anything. A new event each time (its own webhook-id). */
export async function sendTestEvent(c: Context<AppEnv>, name: string): Promise<TestEvent> {
  if (configured(c).find((d) => d.name === name) === undefined)
    throw httpError(404, "not_found", `No destination named ${name}.`);
  const eventId = `evt_${crypto.randomUUID().replaceAll("-", "")}`; // the evt_ + 32 hex of every event id
  const objectName = objectNameOf(GATEWAY_PROVIDER, "test", name);
  const receivedAt = new Date(clock.now()).toISOString();
  const outcome = await ledgerOf(c.env, objectName).record({
    provider: GATEWAY_PROVIDER,
    kind: "test",
    objectRef: name,
    eventId,
    status: "sent",
    position: { rank: null, terminal: false },
    data: JSON.stringify({
      destination: name,
      message: "A test event from the webhook gateway: verify its signature as you verify every event.",
      sent_at: receivedAt,
    }),
    unverified: null,
    source: "webhook",
    contentHash: null,
    receivedAt,
    destinations: [name],
  });
  if (outcome.result === "not_stored") throw storageUnavailable("The test event could not be stored; try again.");
  log("info", "test event queued", { destination: name, event_id: eventId });
  return { event_id: eventId, object: objectName };
}

export const destinationsApi = new Hono<AppEnv>();

destinationsApi.get("/", async (c) => c.json({ destinations: await destinationViews(c) }));
destinationsApi.post("/:name/pause", async (c) => c.json(await setPaused(c, c.req.param("name"), true)));
destinationsApi.post("/:name/resume", async (c) => c.json(await setPaused(c, c.req.param("name"), false)));
destinationsApi.post("/:name/test", async (c) => c.json(await sendTestEvent(c, c.req.param("name")), 202));
