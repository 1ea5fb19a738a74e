// The gate: one Durable Object per destination that holds what all of a destination's forwards share:
// its limits (maxPerSecond, maxConcurrency), the origin's Retry-After, pause and resume, and the
// circuit breaker (after 5 consecutive failures it opens; while open one probe at most every 30 s;
// a success closes it and the rate ramps back up). It does not make the requests: it grants leases.
// A lease is a share of the limits for a short time (LEASE_MS), held by an isolate (gate-lease.ts)
// whose objects send within it without asking again; the shares of the live leases never add up to
// more than the limits, so the limits hold whatever the number of isolates. A failure, and the first
// success after failures, are reported back at once: the breaker counts every failure, and a failure
// ends the reporter's lease until the gate has counted it. While the breaker is open a lease is a
// single probe, given to one caller at a time.
// Waiting times are spread (each refused caller gets its own slot), so a thousand waiting objects
// come back over 1000 / maxPerSecond seconds, not at once. Leases live in memory (granting one costs
// no storage write); only breaker transitions and pause/resume are stored.
// Objects told to wait long (the destination paused, its breaker open, a Retry-After), and objects
// whose send failed, are remembered (one stored key each, written once): when an operator resumes the
// destination or a probe closes the breaker, the gate's alarm wakes each of them, so held events
// flow again within seconds (still through the limits), not at their next poll or backoff.
// Gives up: a pause or a Retry-After reaches an isolate that holds a lease when its lease ends (at
// most LEASE_MS later); the isolate that handles the pause forgets its leases at once. A gate evicted
// forgets its leases: the isolates keep theirs until they end, so for at most LEASE_MS the limits
// may be granted twice.

import { DurableObject } from "cloudflare:workers";
import { clock } from "../lib/clock";
import { log } from "../lib/log";
import { raiseAlert, resolveAlert } from "../alerts/report";

export interface GateLimits {
  readonly maxPerSecond: number | null;
  readonly maxConcurrency: number | null;
}

export type WaitReason = "paused" | "open" | "rate" | "concurrency";

/** Who asks for a lease, for what, and on behalf of which object. */
export interface LeaseAsk {
  readonly destination: string;
  /** The isolate that will hold the lease. */
  readonly holder: string;
  readonly limits: GateLimits;
  /** How long one of the destination's requests may take, in ms. */
  readonly timeoutMs: number;
  /** The ledger asking (its Durable Object's name), woken when the destination can take events again. */
  readonly waiter: string | null;
  /** Requests the holder has in flight now. */
  readonly inFlight: number;
}

/** A share of the destination's limits for `ttlMs` (null: no limit), or a single probe. */
export interface Lease {
  readonly ttlMs: number;
  readonly perSecond: number | null;
  readonly concurrency: number | null;
  readonly probe: boolean;
  /** Consecutive failures the gate has counted: while any, the holder reports its next success. */
  readonly failures: number;
}

export type LeaseAnswer = { readonly granted: true; readonly lease: Lease } | Refusal;

/** No lease now: come back at `retryAt`. */
export interface Refusal {
  readonly granted: false;
  readonly retryAt: number;
  readonly reason: WaitReason;
}

/** One request's outcome, as the breaker and Retry-After need it. */
export interface SendOutcome {
  readonly ok: boolean;
  readonly httpStatus: number | null;
  readonly retryAfterMs?: number;
  readonly probe: boolean;
}

export type Breaker = "closed" | "open" | "half_open";

export interface GateState {
  readonly state: "active" | "paused";
  readonly breaker: Breaker;
  /** Requests in flight as the holders of live leases last told. */
  readonly in_flight: number;
  readonly consecutive_failures: number;
  readonly opened_at: string | null;
  readonly not_before: string | null;
  /** Leases now live (one per isolate forwarding to the destination). */
  readonly leases: number;
  /** Requests this instance answered (leases asked for and outcomes reported), since it started. */
  readonly asked_since_start: number;
}

/** Consecutive failures that open the breaker. */
export const BREAKER_THRESHOLD = 5;
/** While open, one probe at most this often, in ms. */
export const PROBE_INTERVAL_MS = 30_000;
/** How long a lease of a destination with limits lasts, in ms (1 s while the rate ramps up). */
export const LEASE_MS = 2_000;
/** How long a lease of a destination without limits lasts, in ms. */
export const UNLIMITED_LEASE_MS = 5_000;
/** After closing, the rate climbs from a tenth to full over this long, in ms. */
const RAMP_MS = 30_000;
/** The share of maxPerSecond the leases grant: sends spaced exactly 1 / maxPerSecond apart put
 *  maxPerSecond + 1 of them within one closed second, and a few ms of network jitter then shows the
 *  origin one more than its limit in a sliding second (seen in bench:protection: 21 at 20/s). At 98 %,
 *  any maxPerSecond + 1 consecutive sends span 1 s + 2 %, which absorbs 20 ms of jitter at 20/s. */
const RATE_HEADROOM = 0.98;
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

/** A live lease, as the gate counts it: its rate until `until`, its concurrency until `holdUntil`
 *  (its last requests may still be out after it ends). */
interface Held {
  readonly perSecond: number | null;
  readonly concurrency: number | null;
  readonly until: number;
  readonly holdUntil: number;
  readonly inFlight: number;
}

export class Gate extends DurableObject<Env> {
  #stored: Stored = { paused: false, breaker: "closed", openedAt: null, closedAt: null };
  readonly #holders = new Map<string, Held>();
  /** When each isolate last asked: the limits are split between those asking lately. */
  readonly #askedAt = new Map<string, number>();
  #asked = 0;
  #probeUntil = 0;
  #lastProbeAt = 0;
  #failures = 0;
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

  /** A lease for the asking isolate, or when to come back (never counted as an attempt). */
  async lease(ask: LeaseAsk): Promise<LeaseAnswer> {
    this.#asked += 1;
    return this.#grant(ask, clock.now());
  }

  /** Learns a request's outcome (the breaker, Retry-After), then answers the holder's next lease. */
  async report(ask: LeaseAsk, outcome: SendOutcome): Promise<LeaseAnswer> {
    this.#asked += 1;
    if (outcome.probe) this.#probeUntil = 0;
    if (!outcome.ok) await this.#remember(ask.waiter);
    await this.#learn(ask.destination, outcome);
    if (outcome.probe && !outcome.ok && this.#stored.breaker === "open")
      await raiseAlert(this.env, { kind: "destination.breaker_open", subject: ask.destination });
    return this.#grant(ask, clock.now());
  }

  async #grant(ask: LeaseAsk, now: number): Promise<LeaseAnswer> {
    const refusal = this.#refusal(now, ask.limits);
    if (refusal !== null) {
      // A long wait (a pause, an open breaker, a Retry-After) is cut short by a resume or a close.
      if (refusal.retryAt - now > LONG_WAIT_MS) await this.#remember(ask.waiter);
      return refusal;
    }
    if (this.#stored.breaker === "open") {
      this.#probeUntil = now + ask.timeoutMs + 1_000;
      this.#lastProbeAt = now;
      const lease = { ttlMs: ask.timeoutMs, perSecond: null, concurrency: 1, probe: true, failures: this.#failures };
      return { granted: true, lease };
    }
    return this.#share(ask, now);
  }

  /** The asker's share of the limits: what the other live leases leave, at most an equal part among
   *  the isolates that asked lately (so one refused now gets its part when the others renew). */
  #share(ask: LeaseAsk, now: number): LeaseAnswer {
    const { maxPerSecond, maxConcurrency } = ask.limits;
    this.#askedAt.set(ask.holder, now);
    for (const [id, at] of this.#askedAt) if (at < now - 2 * LEASE_MS) this.#askedAt.delete(id);
    const askers = this.#askedAt.size;
    const others = [...this.#holders].filter(([id, h]) => id !== ask.holder && h.holdUntil > now).map(([, h]) => h);
    const rating = others.filter((h) => h.until > now);
    let perSecond: number | null = null;
    if (maxPerSecond !== null) {
      const total = maxPerSecond * RATE_HEADROOM * this.#rampShare(now);
      const free = total - rating.reduce((sum, h) => sum + (h.perSecond ?? 0), 0);
      perSecond = Math.min(free, total / Math.max(askers, rating.length + 1));
      if (perSecond < total / 100) return this.#wait("rate", Math.min(...rating.map((h) => h.until)), ask.limits, now);
    }
    let concurrency: number | null = null;
    if (maxConcurrency !== null) {
      const free = maxConcurrency - others.reduce((sum, h) => sum + (h.concurrency ?? 0), 0);
      concurrency = Math.min(free, Math.ceil(maxConcurrency / Math.max(askers, others.length + 1)));
      if (concurrency < 1)
        return this.#wait("concurrency", Math.min(...others.map((h) => h.holdUntil)), ask.limits, now);
    }
    const limited = maxPerSecond !== null || maxConcurrency !== null;
    const ttlMs = !limited ? UNLIMITED_LEASE_MS : this.#rampShare(now) < 1 ? 1_000 : LEASE_MS;
    const until = now + ttlMs;
    this.#holders.set(ask.holder, {
      perSecond,
      concurrency,
      until,
      holdUntil: until + ask.timeoutMs,
      inFlight: ask.inFlight,
    });
    for (const [id, h] of this.#holders) if (h.holdUntil <= now) this.#holders.delete(id);
    return { granted: true, lease: { ttlMs, perSecond, concurrency, probe: false, failures: this.#failures } };
  }

  /** Why no lease can be had now, with the caller's own slot to come back at; null when one can. */
  #refusal(now: number, limits: GateLimits): Refusal | null {
    if (this.#stored.paused) return this.#wait("paused", now + PAUSED_POLL_MS, limits, now);
    if (this.#stored.breaker === "open") {
      const nextProbe = this.#lastProbeAt + PROBE_INTERVAL_MS;
      if (this.#probeUntil > now || now < nextProbe)
        return this.#wait("open", Math.max(nextProbe, now + 1000), limits, now);
    }
    if (now < this.#notBefore) return this.#wait("rate", this.#notBefore, limits, now);
    this.#lastPromised = Math.max(this.#lastPromised, now);
    return null;
  }

  #wait(reason: WaitReason, earliest: number, limits: GateLimits, now: number): Refusal {
    const retryAt = nextSlot(earliest, this.#lastPromised, spacingMs(limits, this.#rampShare(now)));
    this.#lastPromised = retryAt;
    return { granted: false, retryAt, reason };
  }

  /** The part of its rate a destination may use: a tenth just after its breaker closed, full 30 s later. */
  #rampShare(now: number): number {
    const since = this.#stored.closedAt === null ? RAMP_MS : now - this.#stored.closedAt;
    return Math.min(1, 0.1 + (0.9 * since) / RAMP_MS);
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

  async #learn(destination: string, outcome: SendOutcome): Promise<void> {
    const now = clock.now();
    if (!outcome.ok && outcome.retryAfterMs !== undefined) {
      this.#notBefore = Math.max(this.#notBefore, now + outcome.retryAfterMs);
      this.#holders.clear(); // nobody's lease may outlast the origin's request to wait
    }
    if (outcome.ok) {
      this.#failures = 0;
      if (this.#stored.breaker === "open") await this.#transition(destination, "closed", now);
      return;
    }
    // A 429 asks to slow down (Retry-After, above): the origin is not broken, nor shown healthy, so it
    // neither counts towards opening the breaker nor closes it; only a success closes it.
    if (outcome.httpStatus === 429) return;
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
    if (breaker === "open") {
      this.#lastProbeAt = now;
      this.#holders.clear();
    }
    await this.ctx.storage.put("gate", this.#stored);
    if (breaker === "closed") await this.#wakeWaiters(destination);
    log(breaker === "open" ? "error" : "warn", `destination breaker ${breaker}`, {
      destination,
      consecutive_failures: this.#failures,
    });
    if (breaker === "open")
      await raiseAlert(this.env, { kind: "destination.breaker_open", subject: destination, count: this.#failures });
    else await resolveAlert(this.env, "destination.breaker_open", destination);
  }

  state(): GateState {
    const now = clock.now();
    const open = this.#stored.breaker === "open";
    const breaker: Breaker = open ? (this.#probeUntil > now ? "half_open" : "open") : "closed";
    const iso = (ms: number | null) => (ms === null || ms === 0 ? null : new Date(ms).toISOString());
    const live = [...this.#holders.values()].filter((h) => h.holdUntil > now);
    return {
      state: this.#stored.paused ? "paused" : "active",
      breaker,
      in_flight: live.reduce((sum, h) => sum + h.inFlight, 0) + (open && this.#probeUntil > now ? 1 : 0),
      consecutive_failures: this.#failures,
      opened_at: iso(this.#stored.openedAt),
      not_before: this.#notBefore > now ? iso(this.#notBefore) : null,
      leases: live.filter((h) => h.until > now).length,
      asked_since_start: this.#asked,
    };
  }

  /** Pause stops every send; resume lets them go again and, as an operator's decision that the origin
   *  is fine, also closes the breaker and forgets failures, leases, slots and Retry-After. */
  async setPaused(destination: string, paused: boolean): Promise<GateState> {
    this.#holders.clear();
    if (!paused) {
      this.#failures = 0;
      this.#notBefore = 0;
      this.#lastPromised = 0;
      this.#lastProbeAt = 0;
      this.#probeUntil = 0;
    }
    const [wasOpen, wasPaused] = [this.#stored.breaker === "open", this.#stored.paused];
    const breaker = paused ? this.#stored.breaker : "closed";
    this.#stored = { ...this.#stored, paused, breaker, openedAt: breaker === "open" ? this.#stored.openedAt : null };
    await this.ctx.storage.put("gate", this.#stored);
    if (!paused) await this.#wakeWaiters(destination);
    log("warn", `destination ${paused ? "paused" : "resumed"} by an operator`, { destination });
    if (paused && !wasPaused) await raiseAlert(this.env, { kind: "destination.paused", subject: destination });
    if (!paused && wasPaused) await resolveAlert(this.env, "destination.paused", destination);
    if (wasOpen && breaker === "closed") await resolveAlert(this.env, "destination.breaker_open", destination);
    return this.state();
  }
}

/** Milliseconds between two sends at a share of the limits, also used to spread waiting callers. */
export function spacingMs(limits: GateLimits, share = 1): number {
  if (limits.maxPerSecond === null) return limits.maxConcurrency === null ? 0 : DEFAULT_SPACING_MS / 10;
  return 1000 / (limits.maxPerSecond * RATE_HEADROOM * share);
}

/** A waiting caller's own slot: after the last one promised, not before `earliest`, on a whole
 *  millisecond (rounded up). Stored times and alarms are whole milliseconds: a fractional slot made
 *  every woken caller read a time before it, be refused and go to the back of the line. */
export function nextSlot(earliest: number, lastPromised: number, spacing: number): number {
  return Math.ceil(Math.max(earliest, lastPromised + spacing));
}

/** The gate of a destination. */
export function gateFor(env: Env, destination: string): DurableObjectStub<Gate> {
  return env.GATE.get(env.GATE.idFromName(destination));
}
