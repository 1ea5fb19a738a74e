// How the rest of the gateway tells the alerts Durable Object (alerts.ts) what needs an operator.
// Reports are made only when something is wrong (a breaker opens, an event is dead-lettered, a pass
// learns a missed status…), so the happy path costs no request here. A report that cannot be made is
// logged and never fails the caller's own work (a delivery, a pass, an acknowledgement).
// Bad signatures are counted in this isolate's memory, per route: the 20th within 5 minutes opens
// ingest.signature_failures (one request), and while it is open the count is reported at most once a
// minute, so a flood of forgeries costs the alerts object a request a minute, not one each.

import { clock } from "../lib/clock";
import { log } from "../lib/log";
import { errorText } from "../lib/result";
import type { AlertSignal, Alerts } from "./alerts";
import { ALERT_KINDS, SIGNATURE_BURST, type AlertKind } from "./kinds";

export function alertStore(env: Env): DurableObjectStub<Alerts> {
  return env.ALERT_STORE.get(env.ALERT_STORE.idFromName("alerts"));
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

interface Burst {
  /** Times of the bad signatures not yet reported, within the window (while closed). */
  times: number[];
  open: boolean;
  unreported: number;
  reportedAt: number;
  lastAt: number;
}

const bursts = new Map<string, Burst>();
const MAX_ROUTES = 100;
const REPORT_EVERY_MS = 60_000;
const QUIET_MS = ALERT_KINDS["ingest.signature_failures"].quietMs;

/** Counts one webhook refused for its signature on a route; reports a burst (see above). */
export function countBadSignature(env: Env, waitUntil: (p: Promise<unknown>) => void, route: string): void {
  const now = clock.now();
  let burst = bursts.get(route);
  if (burst === undefined) {
    if (bursts.size >= MAX_ROUTES) bursts.clear();
    burst = { times: [], open: false, unreported: 0, reportedAt: 0, lastAt: 0 };
    bursts.set(route, burst);
  }
  if (burst.open && now - burst.lastAt >= QUIET_MS) burst.open = false; // the alerts object resolved it
  burst.lastAt = now;
  const report = (count: number) =>
    waitUntil(raiseAlert(env, { kind: "ingest.signature_failures", subject: route, count }));
  if (!burst.open) {
    burst.times = burst.times.filter((t) => now - t < SIGNATURE_BURST.windowMs);
    burst.times.push(now);
    if (burst.times.length < SIGNATURE_BURST.count) return;
    report(burst.times.length);
    Object.assign(burst, { open: true, times: [], unreported: 0, reportedAt: now });
    return;
  }
  burst.unreported += 1;
  if (now - burst.reportedAt < REPORT_EVERY_MS) return;
  report(burst.unreported);
  Object.assign(burst, { unreported: 0, reportedAt: now });
}

/** Forgets the bursts counted in this isolate (tests). */
export function forgetBursts(): void {
  bursts.clear();
}
