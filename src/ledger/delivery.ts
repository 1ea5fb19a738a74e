// The alarm's work: confirm due refunds (confirm.ts), then forward the outbox in order, one event
// at a time, until it is empty, the head must wait for its retry time, or this run has done its
// share.
// Safe to run twice: every attempt is recorded in SQLite before its request, an attempt left in
// flight by a stopped run is closed as interrupted, and a watchdog alarm is set before each request
// so a run that dies mid-request is resumed. The origin may therefore see an event more than once
// (at-least-once); it drops repeats by webhook-id.

import { clock } from "../clock";
import { indexDeadLetter } from "../edge/dead-letters";
import { deliverOnce, forwardTarget, type AttemptResult } from "../forward/deliver";
import { retryDelayMs } from "../forward/schedule";
import { log } from "../log";
import { confirmDueRefunds } from "./confirm";
import type { Outbox, OutboxHead } from "./outbox";
import type { Refunds } from "./refunds";
import { armWatchdog } from "./watchdog";

/** Events forwarded per alarm run at most, so one object's backlog cannot hold an alarm for long. */
const MAX_DELIVERIES_PER_RUN = 25;

/** One alarm run: refund confirmations due (when the object has refunds), then the outbox; then
 *  the alarm for what is next. Interrupted attempts are closed by the caller, once per instance. */
export async function runAlarm(
  storage: DurableObjectStorage,
  env: Env,
  outbox: Outbox,
  refunds: Refunds | null,
): Promise<void> {
  if (refunds) await confirmDueRefunds(storage, env, outbox, refunds);
  const wake = earliest(await deliverDue(storage, env, outbox), refunds?.nextDue() ?? null);
  if (wake === null)
    await storage.deleteAlarm(); // also drops the watchdog
  else await storage.setAlarm(wake);
}

/** Forwards what is due, in order; returns when the outbox next needs a run (null: never). */
async function deliverDue(storage: DurableObjectStorage, env: Env, outbox: Outbox): Promise<number | null> {
  for (let delivered = 0; ; delivered++) {
    const head = outbox.head();
    if (head === null) return null;
    const now = clock.now();
    if (head.nextAttemptAt > now) return head.nextAttemptAt;
    if (delivered >= MAX_DELIVERIES_PER_RUN) return now;

    const result = await attempt(storage, env, outbox, head, now);
    if (result.ok) continue;
    const delay = retryDelayMs(head.cycleAttempts + 1, Math.random());
    if (delay === null) {
      await deadLetter(env, outbox, head, result.error);
      continue; // the events queued behind a dead letter proceed
    }
    const at = clock.now() + delay;
    outbox.scheduleRetry(head.seq, at, clock.now(), result.error);
    log("warn", "forward failed; retry scheduled", {
      ...ids(head),
      attempt: head.cycleAttempts + 1,
      error: result.error,
      retry_at: new Date(at).toISOString(),
    });
    return at; // later events of this object wait behind the one being retried
  }
}

function earliest(a: number | null, b: number | null): number | null {
  if (a === null) return b;
  if (b === null) return a;
  return Math.min(a, b);
}

async function attempt(
  storage: DurableObjectStorage,
  env: Env,
  outbox: Outbox,
  head: OutboxHead,
  now: number,
): Promise<AttemptResult> {
  const attemptId = outbox.beginAttempt(head, now);
  await armWatchdog(storage);
  const target = await forwardTarget(env);
  const result: AttemptResult =
    "error" in target ? { ok: false, httpStatus: null, error: target.error } : await deliverOnce(target, head, now);
  const finishedAt = clock.now();
  if (result.ok) {
    outbox.finishAttempt(attemptId, finishedAt, "delivered", result.httpStatus, null);
    outbox.setState(head.seq, "delivered", finishedAt, null);
    log("info", "forwarded", { ...ids(head), http_status: result.httpStatus });
    return result;
  }
  outbox.finishAttempt(attemptId, finishedAt, "failed", result.httpStatus, result.error);
  return result;
}

/** The KV index entry is written first: if it fails, the alarm throws and retries, nothing is hidden. */
async function deadLetter(env: Env, outbox: Outbox, head: OutboxHead, error: string): Promise<void> {
  const now = clock.now();
  await indexDeadLetter(env.SEEN, {
    object: outbox.ledgerName(),
    event_id: head.eventId,
    status: head.status,
    dead_at: new Date(now).toISOString(),
    last_error: error.slice(0, 200),
  });
  outbox.setState(head.seq, "dead", now, error);
  log("error", "forward dead-lettered after the retry budget", { ...ids(head), error });
}

const ids = (head: OutboxHead) => ({ event_id: head.eventId, kind: head.kind, object_ref: head.objectRef });
