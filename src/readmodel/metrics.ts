// What GET /admin/metrics reads of the read model (D1): events by provider, kind and outcome (the rows
// kept plus what retention removed, so the count never decreases), each destination's deliveries by
// state and its oldest pending event, and the receipt-to-delivery times. One batch of queries per
// scrape; nothing is written.

/** Buckets of gateway_delivery_seconds, in seconds. */
export const DELIVERY_BUCKETS_S = [0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600] as const;

export interface EventCount {
  readonly provider: string;
  readonly kind: string;
  readonly outcome: string;
  readonly n: number;
}

export interface DestinationFigures {
  readonly pending: number;
  readonly delivered: number;
  readonly dead: number;
  /** When its oldest pending event was received (epoch ms; null: none pending). */
  readonly oldest_pending_at: number | null;
  /** Deliveries at or under each bucket (cumulative), their count, and the sum of their times in ms. */
  readonly buckets: readonly number[];
  readonly count: number;
  readonly sum_ms: number;
}

export interface MetricFigures {
  readonly events: readonly EventCount[];
  readonly destinations: ReadonlyMap<string, DestinationFigures>;
}

const bucketColumns = DELIVERY_BUCKETS_S.map(
  (s, i) => `coalesce(sum(e.delivered_at - e.received_at <= ${s * 1000}), 0) AS b${i}`,
).join(", ");

export async function metricFigures(db: D1Database, destinations: readonly string[]): Promise<MetricFigures> {
  const names = JSON.stringify(destinations);
  const has = (column: string) => `${column} IS NOT NULL AND instr(${column}, ',' || d.value || ',') > 0`;
  const [events, states, latency] = await db.batch<Record<string, number | string | null>>([
    db.prepare(
      `SELECT provider, kind, outcome, sum(n) AS n FROM (
         SELECT provider, kind, outcome, count(*) AS n FROM events GROUP BY provider, kind, outcome
         UNION ALL SELECT provider, kind, outcome, n FROM purged_counts)
       GROUP BY provider, kind, outcome ORDER BY provider, kind, outcome`,
    ),
    db
      .prepare(
        `SELECT d.value AS destination,
                (SELECT count(*) FROM events e WHERE ${has("e.pending_to")}) AS pending,
                (SELECT count(*) FROM events e WHERE ${has("e.delivered_to")}) AS delivered,
                (SELECT count(*) FROM events e WHERE ${has("e.dead_to")}) AS dead,
                (SELECT min(e.received_at) FROM events e WHERE ${has("e.pending_to")}) AS oldest
           FROM json_each(?) d`,
      )
      .bind(names),
    db
      .prepare(
        `SELECT d.value AS destination, count(e.event_id) AS count,
                coalesce(sum(e.delivered_at - e.received_at), 0) AS sum_ms, ${bucketColumns}
           FROM json_each(?) d LEFT JOIN events e ON ${has("e.delivered_to")} AND e.delivered_at IS NOT NULL
          GROUP BY d.value`,
      )
      .bind(names),
  ]);
  const byName = new Map((latency?.results ?? []).map((r) => [String(r.destination), r]));
  const figures = new Map<string, DestinationFigures>();
  for (const row of states?.results ?? []) {
    const name = String(row.destination);
    const l = byName.get(name) ?? {};
    figures.set(name, {
      pending: Number(row.pending ?? 0),
      delivered: Number(row.delivered ?? 0),
      dead: Number(row.dead ?? 0),
      oldest_pending_at: row.oldest === null || row.oldest === undefined ? null : Number(row.oldest),
      buckets: DELIVERY_BUCKETS_S.map((_, i) => Number(l[`b${i}`] ?? 0)),
      count: Number(l.count ?? 0),
      sum_ms: Number(l.sum_ms ?? 0),
    });
  }
  const counts = (events?.results ?? []).map((r) => ({
    provider: String(r.provider),
    kind: String(r.kind),
    outcome: String(r.outcome),
    n: Number(r.n),
  }));
  return { events: counts, destinations: figures };
}
