// What GET /admin/metrics reads of the read model (D1): events by provider, kind and outcome (the rows
// kept plus what retention removed, so the count never decreases), each destination's deliveries by
// state and its oldest pending event, and the receipt-to-delivery times. One scan of the events per
// scrape (every row read once: at a million events, a scrape a minute reads 1.4 billion rows a day;
// scrape less often on a large read model), nothing written.

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
  (s, i) => `coalesce(sum(delivered_at - received_at <= ${s * 1000}), 0) AS b${i}`,
).join(", ");

/** One group of the read model's events: the same provider, kind, outcome and destinations by state. */
type Group = Record<string, number | string | null> & {
  provider: string;
  kind: string;
  outcome: string;
  pending_to: string | null;
  delivered_to: string | null;
  dead_to: string | null;
  n: number;
  delivered_n: number;
  sum_ms: number;
  oldest: number | null;
};

/** The figures, from one scan of the read model's events (grouped in SQL by provider, kind, outcome and
 *  the destinations by state: few groups) and the purged counts; split by destination here. */
export async function metricFigures(db: D1Database, destinations: readonly string[]): Promise<MetricFigures> {
  const [grouped, purged] = await db.batch<Record<string, number | string | null>>([
    db.prepare(
      `SELECT provider, kind, outcome, pending_to, delivered_to, dead_to, count(*) AS n,
              count(delivered_at) AS delivered_n, coalesce(sum(delivered_at - received_at), 0) AS sum_ms,
              min(received_at) AS oldest, ${bucketColumns}
         FROM events GROUP BY provider, kind, outcome, pending_to, delivered_to, dead_to`,
    ),
    db.prepare("SELECT provider, kind, outcome, n FROM purged_counts"),
  ]);
  const groups = (grouped?.results ?? []) as Group[];
  const totals = new Map<string, EventCount>();
  const add = (provider: string, kind: string, outcome: string, n: number) => {
    const key = JSON.stringify([provider, kind, outcome]);
    const was = totals.get(key)?.n ?? 0;
    totals.set(key, { provider, kind, outcome, n: was + n });
  };
  for (const g of groups) add(g.provider, g.kind, g.outcome, g.n);
  for (const p of purged?.results ?? []) add(String(p.provider), String(p.kind), String(p.outcome), Number(p.n));
  const figures = new Map<string, DestinationFigures>();
  for (const name of destinations) figures.set(name, figuresFor(name, groups));
  const events = [...totals.values()].sort((a, b) =>
    `${a.provider} ${a.kind} ${a.outcome}`.localeCompare(`${b.provider} ${b.kind} ${b.outcome}`),
  );
  return { events, destinations: figures };
}

const names = (column: string | null): string[] => (column === null ? [] : column.split(",").filter((n) => n !== ""));

/** One destination's figures from the groups that name it. */
function figuresFor(name: string, groups: readonly Group[]): DestinationFigures {
  let [pending, delivered, dead, count, sumMs] = [0, 0, 0, 0, 0];
  let oldest: number | null = null;
  const buckets = DELIVERY_BUCKETS_S.map(() => 0);
  for (const g of groups) {
    if (names(g.pending_to).includes(name)) {
      pending += g.n;
      if (g.oldest !== null) oldest = oldest === null ? g.oldest : Math.min(oldest, g.oldest);
    }
    if (names(g.dead_to).includes(name)) dead += g.n;
    if (!names(g.delivered_to).includes(name)) continue;
    delivered += g.n;
    count += g.delivered_n;
    sumMs += g.sum_ms;
    DELIVERY_BUCKETS_S.forEach((_, i) => (buckets[i] = (buckets[i] ?? 0) + Number(g[`b${i}`] ?? 0)));
  }
  return { pending, delivered, dead, oldest_pending_at: oldest, buckets, count, sum_ms: sumMs };
}
