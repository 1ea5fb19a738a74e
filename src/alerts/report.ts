// How the rest of the gateway tells the alerts Durable Object (alerts.ts) what needs an operator.
// Reports are made only when something is wrong (a breaker opens, an event is dead-lettered, a pass
// learns a missed status…), so the happy path costs no request here. A report that cannot be made is
// logged and never fails the caller's own work (a delivery, a pass, an acknowledgement).
// Bad signatures are counted by the alerts object, where isolates meet, from batches each isolate
// sends at most four times a second per route (bursts.ts).

import { loadConfig } from "../config";
import { log } from "../lib/log";
import { errorText } from "../lib/result";
import type { AlertSignal, Alerts } from "./alerts";
import type { AlertKind } from "./kinds";

export function alertStore(env: Env): DurableObjectStub<Alerts> {
  const locationHint = loadConfig(env).singletonLocation;
  return env.ALERT_STORE.get(env.ALERT_STORE.idFromName("alerts"), { locationHint });
}

async function attempt(what: string, key: string, call: () => Promise<unknown>): Promise<void> {
  try {
    await call();
  } catch (thrown) {
    log("error", `alert not ${what}: the alerts object could not be reached`, { key, error: errorText(thrown) });
  }
}

export function raiseAlert(env: Env, signal: AlertSignal): Promise<void> {
  return attempt("raised", `${signal.kind}:${signal.subject}`, () => alertStore(env).raise(signal));
}

export function resolveAlert(env: Env, kind: AlertKind, subject: string): Promise<void> {
  const key = `${kind}:${subject}`;
  return attempt("resolved", key, () => alertStore(env).resolve(key));
}

/** `count` of what an alert counts went away (dead letters re-queued). */
export function clearAlert(env: Env, kind: AlertKind, subject: string, count: number): Promise<void> {
  const key = `${kind}:${subject}`;
  return attempt("cleared", key, () => alertStore(env).clear(key, count));
}

/** One isolate's bad signatures per route, not yet told to the alerts object. */
const unsent = new Map<string, number>();
/** Bad signatures of one isolate are told to the alerts object at most this often per route, in ms. */
const FLUSH_EVERY_MS = 250;
const MAX_ROUTES = 200;

/** Counts one webhook refused for its signature on a route. The alerts object counts across isolates
 *  (bursts.ts); this isolate tells it in batches, the first FLUSH_EVERY_MS after the first bad
 *  signature, so a flood costs it a few requests a second, not one each, and writes nothing. */
export function countBadSignature(env: Env, waitUntil: (p: Promise<unknown>) => void, route: string): void {
  const pending = unsent.get(route);
  if (pending !== undefined) {
    unsent.set(route, pending + 1);
    return;
  }
  if (unsent.size >= MAX_ROUTES) return;
  unsent.set(route, 1);
  waitUntil(
    (async () => {
      await new Promise((resolve) => setTimeout(resolve, FLUSH_EVERY_MS));
      const n = unsent.get(route) ?? 0;
      unsent.delete(route);
      const key = `ingest.signature_failures:${route}`;
      await attempt("counted", key, () => alertStore(env).countBadSignatures(route, n));
    })(),
  );
}

/** Forgets the bad signatures this isolate has not told yet (tests). */
export function forgetBursts(): void {
  unsent.clear();
}

const addresses = new Set<string>();

/** Tells the alerts object the address the gateway is reached at (its console links, when GATEWAY_URL
 *  is unset), once per isolate and address. */
export function noteAddress(env: Env, waitUntil: (p: Promise<unknown>) => void, url: string): void {
  const origin = new URL(url).origin;
  if (addresses.has(origin)) return;
  addresses.add(origin);
  waitUntil(attempt("told the gateway's address", "address", () => alertStore(env).noteAddress(origin)));
}
