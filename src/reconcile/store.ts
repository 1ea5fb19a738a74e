// What reconciliation and retention read of the read model: which objects a pass checks or purges,
// each pass's summary for operators, and the sweep's window. What a pass marks on the objects is
// written by readmodel/marks.ts. The ledgers stay the authority: a pass only chooses whom to ask here.

export interface Candidate {
  readonly object: string;
  readonly kind: string;
  readonly status: string | null;
}

/** Unfinished PortOne objects silent since `silentBefore` and past their backoff, least recently
 *  checked first; an active subscription at every pass (its charges are read while it is active).
 *  With no silence asked for (`silentBefore` = `now`, RECONCILE_AFTER_MINUTES=0) every unfinished
 *  object is due, whatever its backoff. */
export async function dueObjects(
  db: D1Database,
  now: number,
  silentBefore: number,
  limit: number,
): Promise<Candidate[]> {
  const backoffUntil = silentBefore >= now ? Number.MAX_SAFE_INTEGER : now;
  const { results } = await db
    .prepare(
      `SELECT object, kind, status FROM objects
        WHERE finished = 0 AND provider = 'portone' AND purged_at IS NULL
          AND kind IN ('payment', 'payment_link', 'subscription_link')
          AND (last_seen_at <= ?1 OR (kind = 'subscription_link' AND lower(status) = 'active'))
          AND coalesce(reconcile_after, 0) <= ?2
        ORDER BY coalesce(reconciled_at, 0), last_seen_at LIMIT ?3`,
    )
    .bind(silentBefore, backoffUntil, limit)
    .all<Candidate>();
  return results;
}

/** Finished, settled objects quiet since `cutoff` whose history is still kept. */
export async function purgeable(db: D1Database, cutoff: number, limit: number): Promise<string[]> {
  const { results } = await db
    .prepare(
      `SELECT object FROM objects WHERE finished = 1 AND pending = 0 AND dead = 0 AND purged_at IS NULL
          AND last_seen_at <= ? ORDER BY last_seen_at LIMIT ?`,
    )
    .bind(cutoff, limit)
    .all<{ object: string }>();
  return results.map((r) => r.object);
}

/** Which of these ledger names the read model knows. */
export async function knownObjects(db: D1Database, objects: readonly string[]): Promise<Set<string>> {
  if (objects.length === 0) return new Set();
  const { results } = await db
    .prepare("SELECT object FROM objects WHERE object IN (SELECT value FROM json_each(?))")
    .bind(JSON.stringify(objects))
    .all<{ object: string }>();
  return new Set(results.map((r) => r.object));
}

export interface PassSummary {
  readonly trigger: "cron" | "admin";
  readonly started_at: number;
  readonly finished_at: number;
  readonly checked: number;
  readonly changed: number;
  readonly api_calls: number;
  readonly listed: number;
  readonly recorded: number;
  readonly purged: number;
  /** Checks that got no usable answer (unknown reference, unreadable, unavailable). */
  readonly unanswered: number;
  readonly error: string | null;
}

const PASS_COLUMNS = [
  "trigger",
  "started_at",
  "finished_at",
  "checked",
  "changed",
  "api_calls",
  "listed",
  "recorded",
  "purged",
  "unanswered",
  "error",
] as const;

export async function recordPass(db: D1Database, pass: PassSummary): Promise<void> {
  await db
    .prepare(
      `INSERT INTO reconcile_passes (${PASS_COLUMNS.join(", ")}) VALUES (${PASS_COLUMNS.map(() => "?").join(", ")})`,
    )
    .bind(...PASS_COLUMNS.map((c) => pass[c]))
    .run();
}

const CREDENTIALS_REFUSED = "PortOne refused the credentials";

/** A pass's error when PortOne refused the credentials: a configuration problem operators must fix. */
export const credentialsRefused = (reason: string): string => `${CREDENTIALS_REFUSED}: ${reason}`;

/** The latest pass, and its configuration problem if it met one (PortOne refused the credentials). */
export async function lastPasses(db: D1Database): Promise<{ last: PassSummary | null; problem: PassSummary | null }> {
  const last = await db.prepare("SELECT * FROM reconcile_passes ORDER BY id DESC LIMIT 1").first<PassSummary>();
  const problem = last?.error?.startsWith(CREDENTIALS_REFUSED) ? last : null;
  return { last, problem };
}

export interface SweepState {
  readonly from: string;
  readonly to: string | null;
  readonly page: number;
}

export async function sweepState(db: D1Database): Promise<SweepState | null> {
  const row = await db
    .prepare("SELECT window_from, window_to, next_page FROM reconcile_sweep WHERE id = 1")
    .first<{ window_from: string; window_to: string | null; next_page: number }>();
  return row ? { from: row.window_from, to: row.window_to, page: row.next_page } : null;
}

export async function saveSweep(db: D1Database, state: SweepState): Promise<void> {
  await db
    .prepare(
      `INSERT INTO reconcile_sweep (id, window_from, window_to, next_page) VALUES (1, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET window_from = excluded.window_from, window_to = excluded.window_to,
         next_page = excluded.next_page`,
    )
    .bind(state.from, state.to, state.page)
    .run();
}
