// The alarm's work: confirm due refunds (confirm.ts), then forward the outbox in order, one event
// at a time, until it is empty, the head must wait for its retry time, or this run has done its
// share. When the next run is due is not decided here: the Ledger reads it from storage after the
// run's last await, so work that arrived while the run awaited the origin is never forgotten.
// Safe to run twice: every attempt is recorded in SQLite before its request, an attempt left in
// flight by a stopped run is closed as interrupted, and a watchdog alarm is set before each request
// so a run that dies mid-request is resumed. The origin may therefore see an event more than once
// (at-least-once); it drops repeats by webhook-id.

import type { Config } from "../config";
import { clock } from "../lib/clock";
import { err } from "../lib/result";
import { deliverOnce, targetFor, type AttemptResult } from "../egress/deliver";
import { retryDelayMs } from "../egress/schedule";
import { log } from "../lib/log";
import { confirmDueRefunds } from "./confirm";
import type { Outbox, OutboxHead } from "./outbox";
import type { Refunds } from "./refunds";
import { armWatchdog } from "./watchdog";

/** Events forwarded per alarm run at most, so one object's backlog cannot hold an alarm for long. */
const MAX_DELIVERIES_PER_RUN = 25;

/** One alarm run: refund confirmations due (when the object has refunds), then the outbox.
 *  Interrupted attempts of an earlier instance are closed by the caller, once per instance. */
export async function runAlarm(
  storage: DurableObjectStorage,
  config: Config,
  outbox: Outbox,
  refunds: Refunds | null,
  beforeEachForward: () => Promise<void>,
): Promise<void> {
  if (refunds) await confirmDueRefunds(storage, config.portone, outbox, refunds);
  await deliverDue(storage, config, outbox, beforeEachForward);
}

/** The earliest of two due times (null: nothing due). */
export function earliest(a: number | null, b: number | null): number | null {
  if (a === null) return b;
  if (b === null) return a;
  return Math.min(a, b);
}

/** Forwards what is due to each destination, in order, until each head must wait or this run has done
 *  its share. One destination's failures never hold another's queue. */
async function deliverDue(
  storage: DurableObjectStorage,
  config: Config,
  outbox: Outbox,
  beforeEachForward: () => Promise<void>,
): Promise<void> {
  let budget = MAX_DELIVERIES_PER_RUN;
  for (const destination of outbox.pendingDestinations()) {
    budget = await deliverTo(destination, budget, storage, config, outbox, beforeEachForward);
    if (budget <= 0) return;
  }
}

/** One destination's queue; returns the run's remaining budget. */
async function deliverTo(
  destination: string,
  budget: number,
  storage: DurableObjectStorage,
  config: Config,
  outbox: Outbox,
  beforeEachForward: () => Promise<void>,
): Promise<number> {
  for (let left = budget; left > 0; left--) {
    const head = outbox.head(destination);
    if (head === null || head.nextAttemptAt > clock.now()) return left;
    await beforeEachForward();
    const now = clock.now();

    const result = await attempt(storage, config, outbox, head, now);
    if (result.ok) continue;
    const delay = retryDelayMs(head.cycleAttempts + 1, Math.random());
    if (delay === null) {
      deadLetter(outbox, head, result.error.error);
      continue; // the events queued behind a dead letter proceed
    }
    const at = clock.now() + delay;
    outbox.scheduleRetry(head, at, clock.now(), result.error.error);
    log("warn", "forward failed; retry scheduled", {
      ...ids(head),
      attempt: head.cycleAttempts + 1,
      error: result.error.error,
      retry_at: new Date(at).toISOString(),
    });
    return left - 1; // later events of this object wait, for this destination, behind the one being retried
  }
  return 0;
}

async function attempt(
  storage: DurableObjectStorage,
  config: Config,
  outbox: Outbox,
  head: OutboxHead,
  now: number,
): Promise<AttemptResult> {
  const attemptId = outbox.beginAttempt(head, now);
  let result: AttemptResult;
  try {
    const target = await targetFor(config, head.destination);
    await armWatchdog(storage, target.ok ? target.value.timeoutMs : 0);
    result = target.ok ? await deliverOnce(target.value, head, now) : err({ httpStatus: null, error: target.error });
  } catch (thrown) {
    // The run is about to fail and be retried: the attempt it began is closed now, not left in flight.
    outbox.finishAttempt(attemptId, clock.now(), "interrupted", null, "the run failed during the attempt");
    throw thrown;
  }
  const finishedAt = clock.now();
  if (result.ok) {
    outbox.finishAttempt(attemptId, finishedAt, "delivered", result.value.httpStatus, null);
    outbox.setState(head, "delivered", finishedAt, null);
    log("info", "forwarded", { ...ids(head), http_status: result.value.httpStatus });
    return result;
  }
  outbox.finishAttempt(attemptId, finishedAt, "failed", result.error.httpStatus, result.error.error);
  return result;
}

/** Kept, visible in the object's report and (after this run's snapshot) in the read model's list. */
function deadLetter(outbox: Outbox, head: OutboxHead, error: string): void {
  outbox.setState(head, "dead", clock.now(), error);
  log("error", "forward dead-lettered after the retry budget", { ...ids(head), error });
}

const ids = (head: OutboxHead) => ({
  event_id: head.eventId,
  kind: head.kind,
  object_ref: head.objectRef,
  destination: head.destination,
});
