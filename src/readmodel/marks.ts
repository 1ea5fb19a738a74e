// What reconciliation and retention mark on the read model's objects: when each was checked with
// PortOne's API and the backoff before the next check, and that a purged object's history is gone.
// The read model's other writes are the ledgers' snapshots (writer.ts, rows.ts).

import { DAY_MS, MINUTE_MS } from "../lib/time";

/** Base and cap of the per-object backoff between checks that find nothing, in ms. */
const BACKOFF = { first: 5 * MINUTE_MS, max: DAY_MS };

export interface Noted {
  readonly object: string;
  /** Found something, or an active subscription: checked again at the next pass it is silent. */
  readonly again: boolean;
}

/** Notes the checks of a batch in one D1 query: when, and the backoff before the next. */
export async function noteChecks(db: D1Database, noted: readonly Noted[], now: number): Promise<void> {
  if (noted.length === 0) return;
  await db.batch(
    noted.map((n) =>
      db
        .prepare(
          `UPDATE objects SET reconciled_at = ?1,
                  reconcile_checks = CASE WHEN ?2 THEN 0 ELSE reconcile_checks + 1 END,
                  reconcile_after = CASE WHEN ?2 THEN ?1
                    ELSE ?1 + min(?3 * (1 << min(reconcile_checks, 20)), ?4) END
            WHERE object = ?5`,
        )
        .bind(now, n.again ? 1 : 0, BACKOFF.first, BACKOFF.max, n.object),
    ),
  );
}

/** The read model forgets a purged object's events; its row stays, marked purged. */
export async function forgetPurged(db: D1Database, object: string, now: number): Promise<void> {
  await db.batch([
    // Counted before they go: gateway_events_total never decreases (metrics.ts).
    db
      .prepare(
        `INSERT INTO purged_counts (provider, kind, outcome, n)
         SELECT provider, kind, outcome, count(*) FROM events WHERE object = ? GROUP BY provider, kind, outcome
         ON CONFLICT (provider, kind, outcome) DO UPDATE SET n = n + excluded.n`,
      )
      .bind(object),
    db.prepare("DELETE FROM events WHERE object = ?").bind(object),
    db.prepare("UPDATE objects SET purged_at = ? WHERE object = ?").bind(now, object),
  ]);
}
