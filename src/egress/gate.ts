// The gate: one Durable Object per destination, through which every forward to that destination
// passes. An object's alarm hands it a signed request; the gate either sends it now and answers the
// result, or answers "wait until" without sending. In one round trip it enforces the destination's
// rate (maxPerSecond) and concurrency (maxConcurrency), honours the origin's Retry-After, and holds
// the circuit breaker: after 5 consecutive failures it opens, and while open lets one probe through
// at most every 30 s; a success closes it and the rate ramps back up.
// Waiting times are spread (each refused caller gets its own slot), so a thousand waiting objects
// come back over 1000 / maxPerSecond seconds, not at once. The bucket and in-flight count live in
// memory (a send costs no storage write); only breaker transitions and pause/resume are stored.
// Objects told to wait long (the destination paused, its breaker open, a Retry-After), and objects
// whose send failed, are remembered (one stored key each, written once): when an operator resumes the
// destination or a probe closes the breaker, the gate's alarm wakes each of them, so held events
// flow again within seconds (still through the limits), not at their next poll or backoff.
// Gives up: a gate evicted mid-send forgets its in-flight count (the sends finish or time out on
// their own); its stored breaker state and its waiters survive.

import { DurableObject } from "cloudflare:workers";
import { clock } from "../lib/clock";
import { log } from "../lib/log";
import { send, type AttemptResult, type SignedRequest } from "./deliver";

export interface GateLimits {
  readonly maxPerSecond: number | null;
  readonly maxConcurrency: number | null;
}

export type GateAnswer =
  | { readonly sent: true; readonly result: AttemptResult }
  | { readonly sent: false; readonly retryAt: number; readonly reason: "paused" | "open" | "rate" | "concurrency" };

export type Breaker = "closed" | "open" | "half_open";

export interface GateState {
  readonly state: "active" | "paused";
  readonly breaker: Breaker;
  readonly in_flight: number;
  readonly consecutive_failures: number;
  readonly opened_at: string | null;
  readonly not_before: string | null;
  /** Requests for a permit this instance answered (sent or refused), since it started. */
  readonly asked_since_start: number;
}

/** Consecutive failures that open the breaker. */
export const BREAKER_THRESHOLD = 5;
/** While open, one probe at most this often, in ms. */
export const PROBE_INTERVAL_MS = 30_000;
/** After closing, the rate climbs from a tenth to full over this long, in ms. */
const RAMP_MS = 30_000;
/** A refused caller without a rate to space it comes back after this, in ms. */
const DEFAULT_SPACING_MS = 100;
/** A paused destination's callers poll this often, in ms (resume also wakes them at once). */
const PAUSED_POLL_MS = 60_000;
/** Waiting objects woken per gate alarm run, and at once within it. */
const WAKE_BATCH = { perRun: 500, atOnce: 25 };
const WAITER_PREFIX = "waiter:";
/** A wait longer than this, in ms, is remembered so that a resume or a closing breaker ends it. */
const LONG_WAIT_MS = 5_000;

interface Stored {
  paused: boolean;
  breaker: "closed" | "open";
  openedAt: number | null;
  closedAt: number | null;
}

export class Gate extends DurableObject<Env> {
  #stored: Stored = { paused: false, breaker: "closed", openedAt: null, closedAt: null };
  #inFlight = 0;
  #asked = 0;
  #probeInFlight = false;
  #lastProbeAt = 0;
  #failures = 0;
  #nextSlotAt = 0;
  #lastPromised = 0;
  #notBefore = 0;
  /** Objects already stored as waiters by this instance (saves rewriting the key). */
  readonly #waiters = new Set<string>();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    void ctx.blockConcurrencyWhile(async () => {
      this.#stored = (await ctx.storage.get<Stored>("gate")) ?? this.#stored;
    });
  }

  /** Sends the request now, or says when to come back (never counted as an attempt). `waiter`: the
   *  ledger asking (its Durable Object's name), woken when the destination can take its events again. */
  async forward(
    destination: string,
    limits: GateLimits,
    request: SignedRequest,
    waiter: string | null = null,
  ): Promise<GateAnswer> {
    const now = clock.now();
    this.#asked += 1;
    const refusal = this.#refusal(now, limits);
    if (refusal !== null) {
      // A long wait (a pause, an open breaker, a Retry-After) is cut short by a resume or a close.
      if (!refusal.sent && refusal.retryAt - now > LONG_WAIT_MS) await this.#remember(waiter);
      return refusal;
    }
    const probe = this.#stored.breaker === "open";
    if (probe) {
      this.#probeInFlight = true;
      this.#lastProbeAt = now;
    }
    this.#inFlight += 1;
    this.#nextSlotAt = Math.max(this.#nextSlotAt, now) + this.#spacing(limits, now);
    let result: AttemptResult;
    try {
      result = await send(request);
    } finally {
      this.#inFlight -= 1;
      if (probe) this.#probeInFlight = false;
    }
    if (!result.ok) await this.#remember(waiter);
    await this.#learn(destination, result);
    return { sent: true, result };
  }

  /** Keeps the name of an object that waits for this destination to be usable again. */
  async #remember(waiter: string | null): Promise<void> {
    if (waiter === null || this.#waiters.has(waiter)) return;
    await this.ctx.storage.put(`${WAITER_PREFIX}${waiter}`, 1);
    this.#waiters.add(waiter);
  }

  /** Wakes the objects that waited (resume, or the breaker closed): each makes its waiting events for
   *  this destination due now; they come back through the limits as usual. */
  override async alarm(): Promise<void> {
    const waiting = await this.ctx.storage.list<number>({ prefix: WAITER_PREFIX, limit: WAKE_BATCH.perRun });
    const names = [...waiting.keys()].map((key) => key.slice(WAITER_PREFIX.length));
    const destination = (await this.ctx.storage.get<string>("name")) ?? "";
    for (let i = 0; i < names.length; i += WAKE_BATCH.atOnce) {
      const batch = names.slice(i, i + WAKE_BATCH.atOnce);
      // A failed wake throws: the runtime retries the alarm, and the keys not yet deleted stay.
      await Promise.all(
        batch.map((name) => this.env.LEDGER.get(this.env.LEDGER.idFromName(name)).wakeFor(destination)),
      );
      await this.ctx.storage.delete(batch.map((name) => `${WAITER_PREFIX}${name}`));
      for (const name of batch) this.#waiters.delete(name);
    }
    if (names.length === WAKE_BATCH.perRun) await this.ctx.storage.setAlarm(clock.now());
  }

  /** Has the alarm wake every waiting object now (nothing to do when none waits). */
  async #wakeWaiters(destination: string): Promise<void> {
    await this.ctx.storage.put("name", destination);
    const any = await this.ctx.storage.list({ prefix: WAITER_PREFIX, limit: 1 });
    if (any.size > 0) await this.ctx.storage.setAlarm(clock.now());
  }

  /** Why a send must wait now, with the caller's own slot to come back at; null when it may go. */
  #refusal(now: number, limits: GateLimits): GateAnswer | null {
    const wait = (reason: "paused" | "open" | "rate" | "concurrency", earliest: number): GateAnswer => {
      const retryAt = Math.max(earliest, this.#lastPromised + this.#spacing(limits, now));
      this.#lastPromised = retryAt;
      return { sent: false, retryAt, reason };
    };
    if (this.#stored.paused) return wait("paused", now + PAUSED_POLL_MS);
    if (this.#stored.breaker === "open") {
      const nextProbe = this.#lastProbeAt + PROBE_INTERVAL_MS;
      if (this.#probeInFlight || now < nextProbe) return wait("open", Math.max(nextProbe, now + 1000));
    }
    if (now < this.#notBefore) return wait("rate", this.#notBefore);
    if (limits.maxConcurrency !== null && this.#inFlight >= limits.maxConcurrency) return wait("concurrency", now + 1);
    if (limits.maxPerSecond !== null && now < this.#nextSlotAt) return wait("rate", this.#nextSlotAt);
    this.#lastPromised = Math.max(this.#lastPromised, now);
    return null;
  }

  /** Milliseconds between two sends: 1 / maxPerSecond, slower while the rate ramps up after closing. */
  #spacing(limits: GateLimits, now: number): number {
    if (limits.maxPerSecond === null) return limits.maxConcurrency === null ? 0 : DEFAULT_SPACING_MS / 10;
    const since = this.#stored.closedAt === null ? RAMP_MS : now - this.#stored.closedAt;
    const share = Math.min(1, 0.1 + (0.9 * since) / RAMP_MS);
    return 1000 / (limits.maxPerSecond * share);
  }

  async #learn(destination: string, result: AttemptResult): Promise<void> {
    const now = clock.now();
    if (!result.ok && result.error.retryAfterMs !== undefined)
      this.#notBefore = Math.max(this.#notBefore, now + result.error.retryAfterMs);
    if (result.ok) {
      this.#failures = 0;
      if (this.#stored.breaker === "open") await this.#transition(destination, "closed", now);
      return;
    }
    // A 429 asks to slow down (Retry-After, above): the origin is not broken, nor shown healthy, so it
    // neither counts towards opening the breaker nor closes it; only a success closes it.
    if (result.error.httpStatus === 429) return;
    this.#failures += 1;
    if (this.#stored.breaker === "closed" && this.#failures >= BREAKER_THRESHOLD)
      await this.#transition(destination, "open", now);
  }

  async #transition(destination: string, breaker: "open" | "closed", now: number): Promise<void> {
    this.#stored = {
      ...this.#stored,
      breaker,
      openedAt: breaker === "open" ? now : null,
      closedAt: breaker === "closed" ? now : this.#stored.closedAt,
    };
    if (breaker === "open") this.#lastProbeAt = now;
    await this.ctx.storage.put("gate", this.#stored);
    if (breaker === "closed") await this.#wakeWaiters(destination);
    log(breaker === "open" ? "error" : "warn", `destination breaker ${breaker}`, {
      destination,
      consecutive_failures: this.#failures,
    });
  }

  state(): GateState {
    const breaker: Breaker = this.#stored.breaker === "open" ? (this.#probeInFlight ? "half_open" : "open") : "closed";
    const iso = (ms: number | null) => (ms === null || ms === 0 ? null : new Date(ms).toISOString());
    return {
      state: this.#stored.paused ? "paused" : "active",
      breaker,
      in_flight: this.#inFlight,
      consecutive_failures: this.#failures,
      opened_at: iso(this.#stored.openedAt),
      not_before: this.#notBefore > clock.now() ? iso(this.#notBefore) : null,
      asked_since_start: this.#asked,
    };
  }

  /** Pause stops every send; resume lets them go again and, as an operator's decision that the origin
   *  is fine, also closes the breaker and forgets failures, limits' slots and Retry-After. */
  async setPaused(destination: string, paused: boolean): Promise<GateState> {
    if (!paused) {
      this.#failures = 0;
      this.#notBefore = 0;
      this.#nextSlotAt = 0;
      this.#lastPromised = 0;
      this.#lastProbeAt = 0;
    }
    const breaker = paused ? this.#stored.breaker : "closed";
    this.#stored = { ...this.#stored, paused, breaker, openedAt: breaker === "open" ? this.#stored.openedAt : null };
    await this.ctx.storage.put("gate", this.#stored);
    if (!paused) await this.#wakeWaiters(destination);
    log("warn", `destination ${paused ? "paused" : "resumed"} by an operator`, { destination });
    return this.state();
  }
}

/** The gate of a destination. */
export function gateFor(env: Env, destination: string): DurableObjectStub<Gate> {
  return env.GATE.get(env.GATE.idFromName(destination));
}
