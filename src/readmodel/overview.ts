// The console's overview from the read model: counts over a window, delivery latency percentiles,
// events per hour for a small chart, and the hints awaiting a provider's API. Each is one D1 query.

import { HOUR_MS } from "../lib/time";

export interface Latency {
  readonly p50_ms: number | null;
  readonly p95_ms: number | null;
  readonly samples: number;
}

/** From received to delivered, over the events delivered since `since` (at most the last 10,000). */
export async function deliveryLatency(db: D1Database, since: number): Promise<Latency> {
  const { results } = await db
    .prepare(
      `SELECT delivered_at - received_at AS ms FROM events
        WHERE delivery = 'delivered' AND delivered_at IS NOT NULL AND received_at >= ?
        ORDER BY received_at DESC LIMIT 10000`,
    )
    .bind(since)
    .all<{ ms: number }>();
  const sorted = results.map((r) => r.ms).sort((a, b) => a - b);
  const at = (p: number): number | null =>
    sorted.length === 0 ? null : (sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? null);
  return { p50_ms: at(0.5), p95_ms: at(0.95), samples: sorted.length };
}

export interface HourCount {
  /** Start of the hour, epoch ms. */
  readonly hour: number;
  readonly accepted: number;
  readonly stale: number;
}

/** Events per hour for the `hours` hours up to `now`, oldest first, empty hours included. */
export async function eventsPerHour(db: D1Database, now: number, hours: number): Promise<HourCount[]> {
  const start = Math.floor(now / HOUR_MS) * HOUR_MS - (hours - 1) * HOUR_MS;
  const { results } = await db
    .prepare(
      `SELECT (received_at / ${HOUR_MS}) * ${HOUR_MS} AS hour, sum(outcome = 'accepted') AS accepted,
              sum(outcome = 'stale') AS stale
         FROM events WHERE received_at >= ? GROUP BY 1`,
    )
    .bind(start)
    .all<HourCount>();
  const byHour = new Map(results.map((r) => [r.hour, r]));
  return Array.from({ length: hours }, (_, i) => {
    const hour = start + i * HOUR_MS;
    return byHour.get(hour) ?? { hour, accepted: 0, stale: 0 };
  });
}

export interface HintObject {
  readonly object: string;
  readonly object_ref: string;
  readonly confirming: number;
  readonly unconfirmed: number;
  readonly last_seen_at: number;
}

export interface HintCounts {
  /** Hints still being confirmed with their provider's API, over every object. */
  readonly confirming: number;
  /** Hints given up as unconfirmed (at least a day without an answer that settles them): an operator looks. */
  readonly unconfirmed: number;
  /** The objects holding them, unconfirmed first, then the most recent (at most `limit`). */
  readonly objects: readonly HintObject[];
}

/** The hints awaiting a provider's API, counted over every object, and the objects that hold them. */
export async function hintsAwaiting(db: D1Database, limit: number): Promise<HintCounts> {
  const [totals, objects] = await Promise.all([
    db
      .prepare(
        `SELECT coalesce(sum(confirming), 0) AS confirming, coalesce(sum(unconfirmed), 0) AS unconfirmed
           FROM objects WHERE confirming > 0 OR unconfirmed > 0`,
      )
      .first<{ confirming: number; unconfirmed: number }>(),
    db
      .prepare(
        `SELECT object, object_ref, confirming, unconfirmed, last_seen_at FROM objects
          WHERE confirming > 0 OR unconfirmed > 0
          ORDER BY unconfirmed > 0 DESC, last_seen_at DESC LIMIT ?`,
      )
      .bind(limit)
      .all<HintObject>(),
  ]);
  return { confirming: totals?.confirming ?? 0, unconfirmed: totals?.unconfirmed ?? 0, objects: objects.results };
}
