// What a destination's gate (gate.ts) counts of the leases it granted, so that the shares of every
// isolate never add up to more than the limits in any sliding second, however the leases hand over:
// - a lease's rate share counts until a second after the lease ends (its last sends are still in the
//   origin's sliding second), and a holder's new share never frees what its earlier ones still hold;
// - a holder's concurrency counts until its last request must be over (its lease's end plus the
//   destination's timeout), as its share or as the requests it said it had in flight, whichever is more;
// - nothing is forgotten early: a pause, a resume, a Retry-After or an opening breaker stop new leases
//   and leave the counts alone (forgetting them once let 4 requests be in flight at a limit of 2).
// Pure bookkeeping in the gate's memory: granting costs no storage write.

import type { GateLimits } from "./rate";

/** Who asks, for what: the holder (an isolate), its requests in flight, and the destination's timeout. */
export interface ShareAsk {
  readonly holder: string;
  readonly limits: GateLimits;
  readonly timeoutMs: number;
  readonly inFlight: number;
}

/** A share of the limits (null: that limit is not set), or when one may be free again. */
export type Share =
  | { readonly perSecond: number | null; readonly concurrency: number | null }
  | { readonly waitUntil: number; readonly reason: "rate" | "concurrency" };

/** How long the gate remembers who asked, to split the limits between those asking lately, in ms. */
const ASKERS_WINDOW_MS = 4_000;
/** Clocks of isolates and of the gate agree to within this, in ms (counted on top of every hold). */
const CLOCK_MARGIN_MS = 50;
/** A rate share counts this long after its lease ends: the origin's sliding second. */
const SLIDING_SECOND_MS = 1_000;

/** A holder's leases as the gate counts them. */
interface Holding {
  /** Rate shares of its leases that still count, each until a second after that lease ended. */
  rates: Array<{ readonly perSecond: number; readonly countsUntil: number }>;
  /** Requests it may have in flight, counted until `holdUntil`. */
  concurrency: number;
  holdUntil: number;
  /** When its current lease ends: it may start requests until then. */
  until: number;
  /** Requests in flight as it last told. */
  inFlight: number;
}

export class Shares {
  readonly #holdings = new Map<string, Holding>();
  readonly #askedAt = new Map<string, number>();

  /** The asker's share: what the others leave, at most an equal part among those asking lately (so
   *  one refused now gets its part when the others renew). `total`: whole sends per second the
   *  destination may take now (null: no rate limit). */
  share(ask: ShareAsk, total: number | null, now: number): Share {
    this.#askedAt.set(ask.holder, now);
    for (const [id, at] of this.#askedAt) if (at < now - ASKERS_WINDOW_MS) this.#askedAt.delete(id);
    this.#prune(now);
    const askers = this.#askedAt.size;
    const others = [...this.#holdings].filter(([id]) => id !== ask.holder).map(([, h]) => h);
    let perSecond: number | null = null;
    if (total !== null) {
      const rating = others.filter((h) => countedRate(h, now) > 0);
      const free = total - others.reduce((sum, h) => sum + countedRate(h, now), 0);
      perSecond = Math.min(free, Math.max(1, Math.floor(total / Math.max(askers, rating.length + 1))));
      if (perSecond < 1) return { waitUntil: earliestRateEnd(rating, now), reason: "rate" };
    }
    let concurrency: number | null = null;
    const most = ask.limits.maxConcurrency;
    if (most !== null) {
      const holding = others.filter((h) => h.holdUntil > now);
      const free = most - holding.reduce((sum, h) => sum + h.concurrency, 0);
      concurrency = Math.min(free, Math.max(1, Math.ceil(most / Math.max(askers, holding.length + 1))));
      if (concurrency < 1) return { waitUntil: Math.min(...holding.map((h) => h.holdUntil)), reason: "concurrency" };
    }
    return { perSecond, concurrency };
  }

  /** Records a granted lease of `ttlMs` for the asker. */
  take(ask: ShareAsk, share: { perSecond: number | null; concurrency: number | null }, ttlMs: number, now: number) {
    const until = now + ttlMs;
    const before = this.#holdings.get(ask.holder);
    const rates = (before?.rates ?? []).filter((r) => r.countsUntil > now);
    if (share.perSecond !== null)
      rates.push({ perSecond: share.perSecond, countsUntil: until + SLIDING_SECOND_MS + CLOCK_MARGIN_MS });
    this.#holdings.set(ask.holder, {
      rates,
      concurrency: Math.max(share.concurrency ?? 0, ask.inFlight),
      holdUntil: Math.max(before?.holdUntil ?? 0, until + ask.timeoutMs + CLOCK_MARGIN_MS),
      until,
      inFlight: ask.inFlight,
    });
  }

  /** Whether one probe fits beside what is still counted (a probe is one send and one request). */
  probeFits(limits: GateLimits, total: number | null, now: number): boolean {
    const all = [...this.#holdings.values()];
    const rate = all.reduce((sum, h) => sum + countedRate(h, now), 0);
    const flying = all.filter((h) => h.holdUntil > now).reduce((sum, h) => sum + h.concurrency, 0);
    return (
      (total === null || rate + 1 <= total) && (limits.maxConcurrency === null || flying + 1 <= limits.maxConcurrency)
    );
  }

  /** Records a probe: one send now, one request until the destination's timeout. */
  takeProbe(ask: ShareAsk, now: number): void {
    const before = this.#holdings.get(ask.holder);
    this.#holdings.set(ask.holder, {
      rates: [...(before?.rates ?? []), { perSecond: 1, countsUntil: now + SLIDING_SECOND_MS + CLOCK_MARGIN_MS }],
      concurrency: Math.max(1, before !== undefined && before.holdUntil > now ? before.concurrency : 0),
      holdUntil: Math.max(before?.holdUntil ?? 0, now + ask.timeoutMs + CLOCK_MARGIN_MS),
      until: before?.until ?? now,
      inFlight: ask.inFlight + 1,
    });
  }

  /** The holder's lease ended early (a failure ends it until the gate has counted it). */
  endLease(holder: string, now: number): void {
    const holding = this.#holdings.get(holder);
    if (holding !== undefined) holding.until = Math.min(holding.until, now);
  }

  /** When the last live lease ends (null: none is live): until then a holder may still start requests. */
  liveUntil(now: number): number | null {
    const ends = [...this.#holdings.values()].map((h) => h.until).filter((until) => until > now);
    return ends.length === 0 ? null : Math.max(...ends);
  }

  /** Requests in flight as the holders last told. */
  inFlight(now: number): number {
    return [...this.#holdings.values()].filter((h) => h.holdUntil > now).reduce((sum, h) => sum + h.inFlight, 0);
  }

  /** Leases now live (one per isolate forwarding to the destination). */
  leases(now: number): number {
    return [...this.#holdings.values()].filter((h) => h.until > now).length;
  }

  #prune(now: number): void {
    for (const [id, h] of this.#holdings)
      if (h.holdUntil <= now && h.rates.every((r) => r.countsUntil <= now)) this.#holdings.delete(id);
  }
}

/** A holder's rate share still counted: the largest of its leases' that still count. */
function countedRate(h: Holding, now: number): number {
  return h.rates.reduce((most, r) => (r.countsUntil > now ? Math.max(most, r.perSecond) : most), 0);
}

/** When the first of these holders' counted rates stops counting. */
function earliestRateEnd(holdings: readonly Holding[], now: number): number {
  const ends = holdings.flatMap((h) => h.rates.map((r) => r.countsUntil)).filter((at) => at > now);
  return ends.length === 0 ? now + 1 : Math.min(...ends);
}
