// The gate: one Durable Object per destination that holds what all of a destination's forwards share:
// its limits (maxPerSecond, maxConcurrency), the origin's Retry-After, pause and resume, and the
// circuit breaker (after 5 consecutive failures it opens; while open one probe at most every 30 s;
// a success closes it and the rate ramps back up). It does not make the requests: it grants leases.
// A lease is a share of the limits for a short time (LEASE_MS), held by an isolate (gate-lease.ts)
// whose objects send within it without asking again; what the gate counts of the leases
// (gate-shares.ts) never adds up to more than the limits in any sliding second, whatever the number of
// isolates and however leases hand over. A failure, and the first success after failures, are
// reported back at once: a failure ends the reporter's lease until the gate has counted it, and while
// failures are counted every lease is short (REPORTING_LEASE_MS) and reports every outcome.
// The breaker opens only once no lease granted before can start a request: at the threshold, a lease
// another isolate still holds may send until it ends, so the gate refuses every new lease and opens
// when the last one ends (at most LEASE_MS later). While open, a lease is a single probe, given to one
// caller at a time and only when it fits the limits beside the requests still out.
// The consecutive failures are stored (one write per failure, one when a success ends them): the
// gate is evicted between an object's retries, and a quiet destination must still reach 5.
// Waiting times are spread (each refused caller gets its own slot), so a thousand waiting objects
// come back over 1000 / maxPerSecond seconds, not at once. Leases live in memory (granting one costs
// no storage write); only the failures, breaker transitions and pause/resume are stored.
// Objects told to wait long (the destination paused, its breaker open, a Retry-After), and objects
// whose send failed, are remembered (one stored key each, written once): when an operator resumes the
// destination or a probe closes the breaker, the gate's alarm wakes each of them, so held events
// flow again within seconds (still through the limits), not at their next poll or backoff.
// Gives up: a pause or a Retry-After reaches an isolate that holds a lease when its lease ends (at
// most LEASE_MS later; the isolate that handles the pause stops at once). A gate evicted while leases
// are live (a deploy, a crash: an idle gate is evicted long after its last lease ended) forgets them:
// for at most LEASE_MS, and the destination's timeout for requests in flight, the limits may be
// granted twice.

import { DurableObject } from "cloudflare:workers";
import { clock } from "../lib/clock";
import { log } from "../lib/log";
import { raiseAlert, resolveAlert } from "../alerts/report";
import { Shares } from "./gate-shares";
import { nextSlot, spacingMs, type GateLimits } from "./rate";
import { MINUTE_MS } from "../lib/time";

export type { GateLimits } from "./rate";

export type WaitReason = "paused" | "open" | "rate" | "concurrency";

/** Who asks for a lease, for what, and on behalf of which object. */
export interface LeaseAsk {
  readonly destination: string;
  /** The isolate that will hold the lease. */
  readonly holder: string;
  readonly limits: GateLimits;
  /** How long one of the destination's requests may take, in ms. */
  readonly timeoutMs: number;
  /** The object asking (its ledger's name), woken when the destination can take events again. */
  readonly objectName: string | null;
  /** Requests the holder has in flight now. */
  readonly inFlight: number;
}

/** A share of the destination's limits for `ttlMs` (null: no limit), or a single probe. */
export interface Lease {
  readonly ttlMs: number;
  /** Whole sends per second (spaced as rate.ts says), or null. */
  readonly perSecond: number | null;
  readonly concurrency: number | null;
  readonly probe: boolean;
  /** Consecutive failures the gate has counted: while any, the holder reports every outcome. */
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
  /** A new object's "not ready" answer: it neither counts toward the breaker nor resets it. */
  readonly notReady?: boolean;
}

export type Breaker = "closed" | "open" | "half_open";

export interface GateState {
  readonly state: "active" | "paused";
  readonly breaker: Breaker;
  /** Requests in flight as the holders of live leases last told. */
  readonly in_flight: number;
  readonly consecutive_failures: number;
  readonly opened_at: string | null;
  /** Set while the failures have reached the threshold and a lease granted before may still send:
   *  the breaker opens then (no new lease is granted meanwhile). */
  readonly opens_at: string | null;
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
/** How long a lease lasts while failures are counted, in ms: a breaker about to open waits for it. */
export const REPORTING_LEASE_MS = 500;
/** After closing, the rate climbs from a tenth to full over this long, in ms. */
const RAMP_MS = 30_000;
/** A paused destination's callers poll this often, in ms (resume also wakes them at once). */
const PAUSED_POLL_MS = MINUTE_MS;
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
  /** Consecutive failures counted (stored: the gate is evicted between an object's retries). */
  failures: number;
}

export class Gate extends DurableObject<Env> {
  #stored: Stored = { paused: false, breaker: "closed", openedAt: null, closedAt: null, failures: 0 };
  readonly #shares = new Shares();
  #asked = 0;
  #probeUntil = 0;
  #lastProbeAt = 0;
  #lastPromised = 0;
  #notBefore = 0;
  /** When the breaker opens, once the failures reached the threshold (null: not opening). */
  #opensAt: number | null = null;
  /** Objects already stored as waiters by this instance (saves rewriting the key). */
  readonly #waiters = new Set<string>();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    void ctx.blockConcurrencyWhile(async () => {
      const stored = await ctx.storage.get<Partial<Stored>>("gate");
      this.#stored = { ...this.#stored, ...stored };
      // Failures at the threshold with the breaker closed: it was opening when this gate stopped, and
      // the leases it waited for are unknown now: it opens at once.
      if (this.#stored.breaker === "closed" && this.#stored.failures >= BREAKER_THRESHOLD) this.#opensAt = 0;
    });
  }

  /** A lease for the asking isolate, or when to come back (never counted as an attempt). */
  async lease(ask: LeaseAsk): Promise<LeaseAnswer> {
    this.#asked += 1;
    await this.#openIfDue(ask.destination, clock.now());
    return this.#grant(ask, clock.now());
  }

  /** Learns a request's outcome (the breaker, Retry-After), then answers the holder's next lease. */
  async report(ask: LeaseAsk, outcome: SendOutcome): Promise<LeaseAnswer> {
    this.#asked += 1;
    const now = clock.now();
    if (outcome.probe) this.#probeUntil = 0;
    if (!outcome.ok && outcome.notReady !== true) {
      this.#shares.endLease(ask.holder, now);
      await this.#remember(ask.objectName);
    }
    await this.#learn(ask.destination, outcome, now);
    if (outcome.probe && !outcome.ok && outcome.notReady !== true && this.#stored.breaker === "open")
      await raiseAlert(this.env, { kind: "destination.breaker_open", subject: ask.destination });
    await this.#openIfDue(ask.destination, now);
    return this.#grant(ask, now);
  }

  async #grant(ask: LeaseAsk, now: number): Promise<LeaseAnswer> {
    const refusal = this.#refusal(now, ask.limits);
    if (refusal !== null) {
      // A long wait (a pause, an open breaker, a Retry-After) is cut short by a resume or a close.
      if (refusal.retryAt - now > LONG_WAIT_MS) await this.#remember(ask.objectName);
      return refusal;
    }
    const total = this.#total(ask.limits, now);
    const failures = this.#stored.failures;
    if (this.#stored.breaker === "open") {
      // One probe, and only beside what the requests still out and the last second's sends leave.
      if (!this.#shares.probeFits(ask.limits, total, now)) return this.#wait("open", now + 1000, ask.limits, now);
      this.#probeUntil = now + ask.timeoutMs + 1_000;
      this.#lastProbeAt = now;
      this.#shares.takeProbe(ask, now);
      return { granted: true, lease: { ttlMs: ask.timeoutMs, perSecond: null, concurrency: 1, probe: true, failures } };
    }
    const share = this.#shares.share(ask, total, now);
    if ("waitUntil" in share) return this.#wait(share.reason, share.waitUntil, ask.limits, now);
    const limited = ask.limits.maxPerSecond !== null || ask.limits.maxConcurrency !== null;
    const full = !limited ? UNLIMITED_LEASE_MS : this.#rampShare(now) < 1 ? 1_000 : LEASE_MS;
    const ttlMs = failures > 0 ? Math.min(full, REPORTING_LEASE_MS) : full;
    this.#shares.take(ask, share, ttlMs, now);
    return { granted: true, lease: { ttlMs, ...share, probe: false, failures } };
  }

  /** Whole sends per second the destination may take now (null: no rate limit). */
  #total(limits: GateLimits, now: number): number | null {
    return limits.maxPerSecond === null ? null : Math.max(1, Math.floor(limits.maxPerSecond * this.#rampShare(now)));
  }

  /** Why no lease can be had now, with the caller's own slot to come back at; null when one can. */
  #refusal(now: number, limits: GateLimits): Refusal | null {
    if (this.#stored.paused) return this.#wait("paused", now + PAUSED_POLL_MS, limits, now);
    if (this.#opensAt !== null)
      return this.#wait("open", Math.max(this.#opensAt, now) + PROBE_INTERVAL_MS, limits, now);
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
  async #remember(objectName: string | null): Promise<void> {
    if (objectName === null || this.#waiters.has(objectName)) return;
    await this.ctx.storage.put(`${WAITER_PREFIX}${objectName}`, 1);
    this.#waiters.add(objectName);
  }

  /** Opens a breaker whose opening is due; then, if the destination can take events again (resumed,
   *  or its breaker closed), wakes the objects that waited: each makes its waiting events for this
   *  destination due now; they come back through the limits as usual. */
  override async alarm(): Promise<void> {
    const destination = (await this.ctx.storage.get<string>("name")) ?? "";
    await this.#openIfDue(destination, clock.now());
    if (this.#opensAt !== null) await this.#armAt(this.#opensAt);
    if (this.#stored.paused || this.#stored.breaker === "open" || this.#opensAt !== null) return;
    const waiting = await this.ctx.storage.list<number>({ prefix: WAITER_PREFIX, limit: WAKE_BATCH.perRun });
    const names = [...waiting.keys()].map((key) => key.slice(WAITER_PREFIX.length));
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

  async #armAt(at: number): Promise<void> {
    const set = await this.ctx.storage.getAlarm();
    if (set === null || set > at) await this.ctx.storage.setAlarm(at);
  }

  async #learn(destination: string, outcome: SendOutcome, now: number): Promise<void> {
    if (outcome.notReady === true) return; // the breaker stays as it was
    if (!outcome.ok && outcome.retryAfterMs !== undefined)
      this.#notBefore = Math.max(this.#notBefore, now + outcome.retryAfterMs);
    if (outcome.ok) {
      this.#opensAt = null; // a success before the breaker opened: it stays closed
      if (this.#stored.failures > 0) await this.#store({ ...this.#stored, failures: 0 });
      if (this.#stored.breaker === "open") await this.#transition(destination, "closed", now);
      return;
    }
    // A 429 asks to slow down (Retry-After, above): the origin is not broken, nor shown healthy, so it
    // neither counts towards opening the breaker nor closes it; only a success closes it.
    if (outcome.httpStatus === 429) return;
    await this.#store({ ...this.#stored, failures: this.#stored.failures + 1 });
    if (this.#stored.breaker === "closed" && this.#stored.failures >= BREAKER_THRESHOLD && this.#opensAt === null) {
      // Leases granted before may still start requests until they end: the breaker opens then.
      this.#opensAt = this.#shares.liveUntil(now) ?? now;
      if (this.#opensAt > now) {
        await this.ctx.storage.put("name", destination);
        await this.#armAt(this.#opensAt);
      }
    }
  }

  async #openIfDue(destination: string, now: number): Promise<void> {
    if (this.#opensAt === null || now < this.#opensAt) return;
    this.#opensAt = null;
    if (this.#stored.breaker === "closed") await this.#transition(destination, "open", now);
  }

  async #store(stored: Stored): Promise<void> {
    this.#stored = stored;
    await this.ctx.storage.put("gate", stored);
  }

  async #transition(destination: string, breaker: "open" | "closed", now: number): Promise<void> {
    if (breaker === "open") this.#lastProbeAt = now;
    await this.#store({
      ...this.#stored,
      breaker,
      openedAt: breaker === "open" ? now : null,
      closedAt: breaker === "closed" ? now : this.#stored.closedAt,
    });
    if (breaker === "closed") await this.#wakeWaiters(destination);
    log(breaker === "open" ? "error" : "warn", `destination breaker ${breaker}`, {
      destination,
      consecutive_failures: this.#stored.failures,
    });
    if (breaker === "open")
      await raiseAlert(this.env, {
        kind: "destination.breaker_open",
        subject: destination,
        count: this.#stored.failures,
      });
    else await resolveAlert(this.env, "destination.breaker_open", destination);
  }

  async state(destination?: string): Promise<GateState> {
    const now = clock.now();
    if (destination !== undefined) await this.#openIfDue(destination, now);
    const open = this.#stored.breaker === "open";
    const breaker: Breaker = open ? (this.#probeUntil > now ? "half_open" : "open") : "closed";
    const iso = (ms: number | null) => (ms === null || ms === 0 ? null : new Date(ms).toISOString());
    return {
      state: this.#stored.paused ? "paused" : "active",
      breaker,
      in_flight: this.#shares.inFlight(now),
      consecutive_failures: this.#stored.failures,
      opened_at: iso(this.#stored.openedAt),
      opens_at: this.#opensAt === null ? null : iso(Math.max(this.#opensAt, now)),
      not_before: this.#notBefore > now ? iso(this.#notBefore) : null,
      leases: this.#shares.leases(now),
      asked_since_start: this.#asked,
    };
  }

  /** Pause stops every new lease; resume lets them go again and, as an operator's decision that the
   *  origin is fine, also closes the breaker and forgets failures, slots and Retry-After. Neither
   *  forgets the leases already granted: their requests are still counted against the limits. */
  async setPaused(destination: string, paused: boolean): Promise<GateState> {
    if (!paused) {
      this.#notBefore = 0;
      this.#lastPromised = 0;
      this.#lastProbeAt = 0;
      this.#probeUntil = 0;
      this.#opensAt = null;
    }
    const [wasOpen, wasPaused] = [this.#stored.breaker === "open", this.#stored.paused];
    const breaker = paused ? this.#stored.breaker : "closed";
    await this.#store({
      ...this.#stored,
      paused,
      breaker,
      openedAt: breaker === "open" ? this.#stored.openedAt : null,
      failures: paused ? this.#stored.failures : 0,
    });
    if (!paused) await this.#wakeWaiters(destination);
    log("warn", `destination ${paused ? "paused" : "resumed"} by an operator`, { destination });
    if (paused && !wasPaused) await raiseAlert(this.env, { kind: "destination.paused", subject: destination });
    if (!paused && wasPaused) await resolveAlert(this.env, "destination.paused", destination);
    if (wasOpen && breaker === "closed") await resolveAlert(this.env, "destination.breaker_open", destination);
    return this.state();
  }
}

/** The gate of a destination. */
export function gateFor(env: Env, destination: string): DurableObjectStub<Gate> {
  return env.GATE.get(env.GATE.idFromName(destination));
}
