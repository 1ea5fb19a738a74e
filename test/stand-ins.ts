// Stand-ins for what lies outside the Worker, at the fetch boundary only: the merchant's origin
// and PortOne's API. Everything inside (KV, Durable Objects, SQLite, alarms) is real.
// setup.ts installs them (in src/outbound.ts) before every test; a test changes how they answer.
// (A vi.spyOn of globalThis.fetch is not enough: the test runtime resets fetch between requests.)

import validateEvent from "./generated/validate-events.mjs";
import { clock } from "../src/lib/clock";
import { outbound } from "../src/lib/outbound";

export const ORIGIN_URL = "https://merchant.test/webhooks";
export const PORTONE_API = "https://portone-api.test";
/** A Cloudflare Access team (its certs endpoint) for the console's Access tests. */
export const ACCESS_TEAM = "gateway-test.cloudflareaccess.com";

export interface Received {
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** The forwarded envelope as the origin receives it (the contract's format). */
export interface Envelope {
  id: string;
  type: string;
  provider: string;
  kind: string;
  object_ref: string;
  status: string;
  previous_status: string | null;
  received_at: string;
  source: "webhook" | "reconciliation" | "api";
  data: Record<string, unknown>;
  unverified?: Record<string, unknown>;
}

export const envelope = (r: Received): Envelope => JSON.parse(r.body) as Envelope;

type Handler = (request: Request) => Promise<Response> | Response;

const accept: Handler = () => new Response(null, { status: 204 });
const noRoute: Handler = (request) => Response.json({ message: `no stand-in for ${request.url}` }, { status: 404 });

export const origin = {
  received: [] as Received[],
  handler: accept,
  /** How the origin answers from now on (a thrown error is a connection failure). */
  answer(handler: Handler): void {
    this.handler = handler;
  },
  /** Every request the origin took with a 2xx, in order. */
  acknowledged: [] as Received[],
};

/** The operators' alert receivers (ALERTS in fixtures/environments.ts): a Slack incoming webhook at
 *  /slack and a Standard Webhooks receiver at /ops. */
export const ALERT_RECEIVERS = "https://alerts.test";
export const alertReceivers = {
  received: [] as Received[],
  handler: accept,
  answer(handler: Handler): void {
    this.handler = handler;
  },
};

/** An origin that holds every request until release() is called. */
export function holdingOrigin() {
  let release: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => (release = resolve));
  let arrived: () => void = () => undefined;
  const inFlight = new Promise<void>((resolve) => (arrived = resolve));
  origin.answer(async () => {
    arrived();
    await gate;
    return new Response(null, { status: 204 });
  });
  return { inFlight, release };
}

export const accessTeam = {
  handler: noRoute,
  answer(handler: Handler): void {
    this.handler = handler;
  },
};

export const portoneApi = {
  requests: [] as Received[],
  handler: noRoute,
  answer(handler: Handler): void {
    this.handler = handler;
  },
};

/** Midtrans's and Payment Options' status APIs, where the vectors' sources point them
 *  (scripts/provider-vectors-sea.mjs: /midtrans/… and /payment-options/…). */
export const PROVIDER_APIS = "http://127.0.0.1:9101";
export const providerApis = {
  requests: [] as Received[],
  handler: noRoute,
  answer(handler: Handler): void {
    this.handler = handler;
  },
};

/**
 * The injected clock for tests. It starts a year ahead of real time, so every alarm the ledger
 * sets (at injected times) lies in the real future and never fires by itself: tests fire alarms
 * with runDurableObjectAlarm, deterministically, and move time with advance().
 */
export const testClock = {
  now: 0,
  reset(): void {
    this.now = Date.now() + 365 * 24 * 3600 * 1000;
  },
  advance(ms: number): void {
    this.now += ms;
  },
};

/** Bodies the gateway forwarded that schemas/events.schema.json refuses (test/setup.ts fails the test). */
export const schemaViolations: string[] = [];

function checkAgainstSchema(body: string): void {
  let event: unknown;
  try {
    event = JSON.parse(body);
  } catch {
    schemaViolations.push(`not JSON: ${body.slice(0, 80)}`);
    return;
  }
  if (!validateEvent(event))
    schemaViolations.push(`${body.slice(0, 160)}\n${JSON.stringify(validateEvent.errors?.slice(0, 3))}`);
}

export function installStandIns(): void {
  testClock.reset();
  schemaViolations.length = 0;
  clock.now = () => testClock.now;
  origin.received.length = 0;
  origin.acknowledged.length = 0;
  origin.handler = accept;
  portoneApi.requests.length = 0;
  portoneApi.handler = noRoute;
  providerApis.requests.length = 0;
  providerApis.handler = noRoute;
  accessTeam.handler = noRoute;
  alertReceivers.received.length = 0;
  alertReceivers.handler = accept;
  outbound.fetch = async (input, init) => {
    const request = new Request(input, init);
    const seen: Received = {
      url: request.url,
      headers: Object.fromEntries(request.headers),
      body: await request.clone().text(),
    };
    if (request.url.startsWith(ORIGIN_URL)) {
      origin.received.push(seen);
      // A forwarded event carries its webhook-id; tests of the bare egress send other bodies.
      if (request.headers.has("webhook-id")) checkAgainstSchema(seen.body);
      const response = await origin.handler(request);
      if (response.status >= 200 && response.status < 300) origin.acknowledged.push(seen);
      return response;
    }
    if (request.url.startsWith(`https://${ACCESS_TEAM}/`)) return accessTeam.handler(request);
    if (request.url.startsWith(`${ALERT_RECEIVERS}/`)) {
      alertReceivers.received.push(seen);
      return alertReceivers.handler(request);
    }
    if (request.url.startsWith(PORTONE_API)) {
      portoneApi.requests.push(seen);
      return portoneApi.handler(request);
    }
    if (request.url.startsWith(`${PROVIDER_APIS}/`)) {
      providerApis.requests.push(seen);
      return providerApis.handler(request);
    }
    throw new TypeError(`test made an unexpected outbound request to ${request.url}`);
  };
}
