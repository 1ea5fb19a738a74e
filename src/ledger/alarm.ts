// The alarm's work: confirm due hints (confirm.ts), then forward the outbox in order, one event
// at a time, until it is empty, the head must wait for its retry time, or this run has done its
// share. When the next run is due is not decided here: the Ledger reads it from storage after the
// run's last await, so work that arrived while the run awaited the origin is never forgotten.
// Safe to run twice: a retry is recorded in SQLite before its request (a first attempt when it ends),
// and an attempt left in flight by a stopped run is closed as interrupted. A run that dies mid-request is run again by the
// runtime (alarms are at-least-once: the alarm stays set until its handler completes), so no
// watchdog alarm is written per request. The origin may therefore see an event more than once
// (at-least-once); it drops repeats by webhook-id.

import type { Config } from "../config";
import { clock } from "../lib/clock";
import { err, errorText } from "../lib/result";
import { outgoing, targetFor, type AttemptResult, type Outgoing } from "../egress/deliver";
import type { GateLimits } from "../egress/rate";
import { forwardUnderLease, type GateAnswer } from "../egress/gate-lease";
import { notReadyDelayMs, retryDelayMs } from "../lib/retry";
import { log } from "../lib/log";
import { raiseAlert } from "../alerts/report";
import { confirmDue } from "./confirm";
import type { Confirmations } from "./confirmations";
import type { Confirmers } from "./confirmers";
import { notReadyRule } from "./not-ready";
import type { Attempt, Outbox, OutboxHead } from "./outbox";
import type { LedgerStore } from "./store";

/** Short waits for a destination's limits are waited within the run: each at most, and in all. */
const IN_RUN_WAIT_MS = { each: 2_000, total: 15_000, deferrals: 50 };

/** Events forwarded per alarm run at most, so one object's backlog cannot hold an alarm for long. */
const MAX_DELIVERIES_PER_RUN = 25;

/** What one alarm run works with. */
export interface RunContext {
  readonly store: LedgerStore;
  readonly env: Env;
  readonly config: Config;
  readonly outbox: Outbox;
  /** The object's hints and who confirms them, when it has any. */
  readonly hints: { readonly confirmations: Confirmations; readonly confirmers: Confirmers } | null;
  /** Keeps the read model current during a long run (called before each forward). */
  readonly beforeEachForward: () => Promise<void>;
  /** This object's name, for the gate to wake it when a destination can take events again. */
  readonly objectName: () => string | null;
}

/** One alarm run: the confirmations due (when the object has hints), then the outbox.
 *  Interrupted attempts of an earlier instance are closed by the caller, once per instance. */
export async function runAlarm(run: RunContext): Promise<void> {
  if (run.hints) await confirmDue({ store: run.store, outbox: run.outbox, ...run.hints });
  await deliverDue(run);
}

/** The earliest of two due times (null: nothing due). */
export function earliest(a: number | null, b: number | null): number | null {
  if (a === null) return b;
  if (b === null) return a;
  return Math.min(a, b);
}

/** Forwards what is due to each destination, in order, until each head must wait or has had its
 *  share of this run. One destination's failures or backlog never hold another's queue. */
async function deliverDue(run: RunContext): Promise<void> {
  // Each destination gets its share of the run, so a long backlog for one (healthy) destination never
  // makes another wait for it to drain.
  const heads = run.outbox.heads();
  const share = Math.max(1, Math.ceil(MAX_DELIVERIES_PER_RUN / heads.length));
  // The first queue starts from the head just read; a later one reads its head again when its turn
  // comes (the run awaited the origin meanwhile, and a redelivery may have queued an earlier event).
  for (const [i, { destination }] of heads.entries())
    await deliverTo(destination, share, run, i === 0 ? heads[0] : undefined);
}

/** One destination's queue, from `first` when its head was just read; returns the run's remaining budget. */
async function deliverTo(destination: string, budget: number, run: RunContext, first?: OutboxHead): Promise<number> {
  const { outbox } = run;
  let [waited, deferrals] = [0, 0];
  let known = first;
  for (let left = budget; left > 0; left--) {
    let head = known ?? outbox.head(destination);
    known = undefined;
    // A short wait the gate gave (a rate slot, a free request) is waited here, not by a new alarm:
    // an alarm moved later and later from inside its own handler is what a backlog would otherwise
    // cost, and (seen with workerd's local alarms) such an alarm can be dropped.
    const wait = head === null ? 0 : head.nextAttemptAt - clock.now();
    if (head !== null && wait > 0 && wait <= IN_RUN_WAIT_MS.each && waited + wait <= IN_RUN_WAIT_MS.total) {
      await new Promise((resolve) => setTimeout(resolve, wait));
      waited += wait;
      head = outbox.head(destination);
    }
    if (head === null || head.nextAttemptAt > clock.now()) return left;
    await run.beforeEachForward();

    const tried = await attempt(run, head, clock.now());
    if (tried === "deferred") {
      // The gate said when to come back (no attempt was made): wait here if that is soon.
      if (++deferrals > IN_RUN_WAIT_MS.deferrals) return left;
      left++;
      continue;
    }
    if (tried.result.ok) continue;
    if ((await afterFailure(run, head, tried)) === "dead") continue; // the events queued behind a dead letter proceed
    return left - 1; // later events of this object wait, for this destination, behind the one being retried
  }
  return 0;
}

/** Records a failed attempt: not ready (a quick retry, no budget used), retried later, or dead-lettered
 *  once the budget (the destination's maxAttempts, else the usual schedule) is spent. */
async function afterFailure(run: RunContext, head: OutboxHead, tried: Tried): Promise<"retry" | "dead"> {
  const { outbox } = run;
  const { httpStatus, error } = tried.result.ok ? { httpStatus: null, error: "" } : tried.result.error;
  if (tried.notReady) {
    const at = clock.now() + notReadyDelayMs(head.notReadyAttempts + 1, Math.random());
    outbox.notReady(tried.begun, clock.now(), httpStatus, error, at);
    log("info", "destination not ready for a new object; retried soon", {
      ...ids(head),
      http_status: httpStatus,
      retry_at: new Date(at).toISOString(),
    });
    return "retry";
  }
  const max = run.config.destinations.ok
    ? (run.config.destinations.value.find((d) => d.name === head.destination)?.maxAttempts ?? null)
    : null;
  const delay =
    max !== null && head.cycleAttempts + 1 >= max ? null : retryDelayMs(head.cycleAttempts + 1, Math.random());
  const at = delay === null ? null : clock.now() + delay;
  outbox.failed(tried.begun, clock.now(), { outcome: "failed", httpStatus, error }, at);
  if (at === null) {
    log("error", "forward dead-lettered after the retry budget", { ...ids(head), error });
    await raiseAlert(run.env, { kind: "delivery.dead_letter", subject: head.destination, outstanding: 1 });
    return "dead";
  }
  log("warn", "forward failed; retry scheduled", {
    ...ids(head),
    attempt: head.cycleAttempts + 1,
    error,
    retry_at: new Date(at).toISOString(),
    // A stopped origin (locally: `npm run origin` not started yet) is the usual cause: nothing is lost.
    ...(httpStatus === null ? { note: "no answer from the destination; the event waits for it" } : {}),
  });
  return "retry";
}

/** An attempt that was made: what it got, and whether that meant "not ready". */
interface Tried {
  readonly result: AttemptResult;
  readonly begun: Attempt;
  readonly notReady: boolean;
}

/** One attempt through the destination's gate (recorded on the head's row before the request when it
 *  has one, else when it ends). A gate that says "wait" made no request: the attempt is taken back
 *  (the retry budget is untouched) and the queue's head waits for the time the gate gave. A delivered
 *  attempt is closed here; a failed one by the caller, with its retry time. */
async function attempt(run: RunContext, head: OutboxHead, now: number): Promise<Tried | "deferred"> {
  const { outbox } = run;
  const begun = outbox.beginAttempt(head, now);
  let result: AttemptResult;
  let notReady = false;
  try {
    const target = await targetFor(run.config, head.destination);
    if (!target.ok) result = err({ httpStatus: null, error: target.error });
    else {
      const { maxPerSecond, maxConcurrency } = target.value;
      const limits = { maxPerSecond, maxConcurrency };
      // Signed only once the lease lets it go (deliver.ts, Outgoing).
      const request = outgoing(target.value, head, notReadyRule(outbox, head));
      const answer = await throughGate(run.env, head.destination, limits, request, run.objectName());
      if (answer === null) result = err({ httpStatus: null, error: "the destination's gate could not be reached" });
      else if (!answer.sent) {
        outbox.takeBackAttempt(begun, answer.retryAt, clock.now(), `waiting: ${answer.reason}`);
        return "deferred";
      } else {
        result = answer.result;
        notReady = answer.notReady === true;
      }
    }
  } catch (thrown) {
    // The run is about to fail and be retried: the attempt it began is closed now, not left in flight.
    const interrupted = {
      outcome: "interrupted",
      httpStatus: null,
      error: "the run failed during the attempt",
    } as const;
    outbox.failed(begun, clock.now(), interrupted, null);
    throw thrown;
  }
  if (result.ok) {
    outbox.delivered(begun, clock.now(), result.value.httpStatus);
    // On the event's timeline already; a failed attempt is a warning.
    log("debug", "forwarded", { ...ids(head), http_status: result.value.httpStatus });
  }
  return { result, begun, notReady };
}

/** The gate's answer, or null when the gate itself failed (the attempt then fails and is retried). */
async function throughGate(
  env: Env,
  destination: string,
  limits: GateLimits,
  request: Outgoing,
  objectName: string | null,
): Promise<GateAnswer | null> {
  try {
    return await forwardUnderLease(env, destination, limits, request, objectName);
  } catch (thrown) {
    log("warn", "destination gate unavailable", { destination, error: errorText(thrown) });
    return null;
  }
}

const ids = (head: OutboxHead) => ({
  event_id: head.eventId,
  kind: head.kind,
  object_ref: head.objectRef,
  destination: head.destination,
});
