// The isolate's side of the gate (gate.ts): a forward to a destination goes out under the lease this
// isolate holds for it, so a healthy destination costs no request to its gate per forward, only one
// per lease (LEASE_MS, shared by every object of the isolate). Within its share, the isolate keeps
// the limits itself as the gate would: sends spaced by 1 / perSecond, at most `concurrency` in flight,
// each refused caller given its own later slot. A failure ends the lease at once and is reported
// (so is a probe's outcome, and the first success after failures); the report's answer is the next
// lease. An object that finds another of its isolate asking waits a moment for that answer (one
// request serves both), except for a probe (its asker's alone) or a refusal (each object asks, so a
// long wait remembers it, to be woken by a resume or a closing breaker).

import { clock } from "../lib/clock";
import { errorText } from "../lib/result";
import { log } from "../lib/log";
import { send, type AttemptResult, type Outgoing } from "./deliver";
import { gateFor, type Lease, type LeaseAnswer, type LeaseAsk, type WaitReason } from "./gate";
import { nextSlot, sendSpacingMs, spacingMs, type GateLimits } from "./rate";

/** What a forward through the gate got: sent (with the origin's answer) or told when to come back. */
export type GateAnswer =
  | { readonly sent: true; readonly result: AttemptResult; readonly notReady?: true }
  | { readonly sent: false; readonly retryAt: number; readonly reason: WaitReason };

/** A lease as this isolate holds it. */
interface LocalLease extends Lease {
  /** When the lease ends, on this isolate's clock (counted from before the ask: never after the gate's end). */
  readonly endsAt: number;
}

/** What this isolate keeps of one destination: its lease, and what it sends under it. */
interface Local {
  lease: LocalLease | null;
  /** Which ask to the gate is out for this destination (its number), if any. Only plain data is
   *  shared between objects: a promise made in one object's request context must not be awaited in
   *  another's (the runtime binds it to the first), so the others wait for the answer by polling. */
  asking: number | null;
  inFlight: number;
  nextSlotAt: number;
  lastPromised: number;
  /** How many times the lease was forgotten: an answer asked for before that is not kept. */
  forgotten: number;
}

const locals = new Map<string, Local>();
let holderId: string | null = null;

/** Forgets the lease this isolate holds for a destination: an operator paused or resumed it. What it
 *  has in flight and its spacing are kept: those requests are still out, and still count. */
export function forgetLeases(destination: string): void {
  const local = locals.get(destination);
  if (local === undefined) return;
  local.lease = null;
  local.forgotten += 1;
}

/** Sends one forward under the destination's lease, or says when to come back (no request made). */
export async function forwardUnderLease(
  env: Env,
  destination: string,
  limits: GateLimits,
  request: Outgoing,
  objectName: string | null,
): Promise<GateAnswer> {
  const local = localFor(destination);
  const ask = (): LeaseAsk => ({
    destination,
    holder: (holderId ??= crypto.randomUUID()),
    limits,
    timeoutMs: request.timeoutMs,
    objectName,
    inFlight: local.inFlight,
  });
  let lease: Lease | null = local.lease !== null && local.lease.endsAt > clock.now() ? local.lease : null;
  if (lease === null) {
    const answer = await leaseFor(env, local, ask);
    if (!answer.granted) return { sent: false, retryAt: answer.retryAt, reason: answer.reason };
    lease = answer.lease;
  }
  const now = clock.now();
  const refusal = lease.probe ? null : localRefusal(local, lease, now); // a probe is this caller's alone
  if (refusal !== null) return refusal;
  local.inFlight += 1;
  local.nextSlotAt = Math.max(local.nextSlotAt, now) + (lease.perSecond === null ? 0 : sendSpacingMs(lease.perSecond));
  let result: AttemptResult;
  try {
    result = await send(await request.sign(now));
  } finally {
    local.inFlight -= 1;
  }
  // "Not ready" (a new object the origin does not know yet) says nothing of the origin's health: the
  // lease goes on and the breaker learns nothing, but a probe's end is still reported.
  if (!result.ok && request.notReady?.(result.error.httpStatus) === true) {
    if (lease.probe) await report(env, local, ask, lease, result, true);
    return { sent: true, result, notReady: true };
  }
  if (!result.ok || lease.probe || lease.failures > 0) await report(env, local, ask, lease, result);
  return { sent: true, result };
}

/** Forgets everything this isolate keeps of every destination, as a new isolate would (tests). */
export function resetLocalLeases(): void {
  locals.clear();
}

function localFor(destination: string): Local {
  let local = locals.get(destination);
  if (local === undefined) {
    local = { lease: null, asking: null, inFlight: 0, nextSlotAt: 0, lastPromised: 0, forgotten: 0 };
    locals.set(destination, local);
  }
  return local;
}

/** A lease from the gate. While another object of this isolate is asking, this one waits a moment
 *  for that answer (a lease serves both); a probe, a refusal or no answer in time: it asks itself. */
async function leaseFor(env: Env, local: Local, ask: () => LeaseAsk): Promise<LeaseAnswer> {
  for (let waited = 0; local.asking !== null && waited < SHARED_ASK_WAIT_MS; waited += POLL_MS)
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  if (local.lease !== null && local.lease.endsAt > clock.now()) return { granted: true, lease: local.lease };
  const asked = ask();
  return ownAnswer(local, asked.destination, clock.now(), () => gateFor(env, asked.destination).lease(asked));
}

/** How long an object waits for another's ask to the gate, and how often it looks, in ms. */
const SHARED_ASK_WAIT_MS = 250;
const POLL_MS = 5;
let asks = 0;

/** Tells the gate what a request got; its answer is the next lease (nothing is sent on this one). */
async function report(
  env: Env,
  local: Local,
  ask: () => LeaseAsk,
  lease: Lease,
  result: AttemptResult,
  notReady = false,
): Promise<void> {
  if (!result.ok) local.lease = null;
  const outcome = {
    ok: result.ok,
    httpStatus: result.ok ? result.value.httpStatus : result.error.httpStatus,
    probe: lease.probe,
    ...(notReady ? { notReady } : {}),
    ...(!result.ok && result.error.retryAfterMs !== undefined ? { retryAfterMs: result.error.retryAfterMs } : {}),
  };
  const asked = ask();
  try {
    await ownAnswer(local, asked.destination, clock.now(), () =>
      gateFor(env, asked.destination).report(asked, outcome),
    );
  } catch (thrown) {
    // The request was made and its result stands; the next forward asks the gate for a lease again.
    log("warn", "destination gate did not take an outcome", {
      destination: asked.destination,
      error: errorText(thrown),
    });
  }
}

/** Asks the gate and keeps a granted lease (not a probe) as the isolate's. */
async function ownAnswer(
  local: Local,
  destination: string,
  askedAt: number,
  call: () => Promise<LeaseAnswer>,
): Promise<LeaseAnswer> {
  const mine = ++asks;
  const forgottenBefore = local.forgotten;
  local.asking = mine;
  try {
    const answer = await call();
    if (local.forgotten > forgottenBefore) return answer; // forgotten meanwhile (a pause or a resume)
    if (answer.granted && !answer.lease.probe) local.lease = { ...answer.lease, endsAt: askedAt + answer.lease.ttlMs };
    else local.lease = null;
    return answer;
  } finally {
    if (local.asking === mine) local.asking = null;
  }
}

/** Why this send must wait within the isolate's share, with the caller's own slot; null when it may go. */
function localRefusal(local: Local, lease: Lease, now: number): GateAnswer | null {
  const spacing =
    lease.perSecond === null
      ? spacingMs({ maxPerSecond: null, maxConcurrency: lease.concurrency })
      : sendSpacingMs(lease.perSecond);
  const wait = (reason: WaitReason, earliest: number): GateAnswer => {
    const retryAt = nextSlot(earliest, local.lastPromised, spacing);
    local.lastPromised = retryAt;
    return { sent: false, retryAt, reason };
  };
  if (lease.concurrency !== null && local.inFlight >= lease.concurrency) return wait("concurrency", now + 1);
  if (lease.perSecond !== null && now < local.nextSlotAt) return wait("rate", local.nextSlotAt);
  local.lastPromised = Math.max(local.lastPromised, now);
  return null;
}
