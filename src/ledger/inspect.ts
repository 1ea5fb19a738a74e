// A read-only report of one object for the operator API: state, event history with each event's
// delivery status (over its destinations), each destination's queue row, every delivery attempt, and
// the hints being confirmed with a provider's API (PortOne's refunds among them). Each event's proven payload (`data`) is included, for the operator who
// must see what was forwarded; only the operator API and console (behind ADMIN_TOKEN or Cloudflare
// Access) read it. Unsigned fields are named (`unverified_keys`), never their values.

import { meta, type MetaValues } from "./meta";
import { ALL_ATTEMPTS, DELIVERY_PER_EVENT } from "./outbox";

export interface ObjectReport {
  state: Array<Record<string, SqlStorageValue>>;
  events: Array<Record<string, SqlStorageValue>>;
  deliveries: Array<Record<string, SqlStorageValue>>;
  attempts: Array<Record<string, SqlStorageValue>>;
  /** Each hint's subject and where its confirmation with the provider's API stands. */
  confirmations: Array<Record<string, SqlStorageValue>>;
  refunds: Array<Record<string, SqlStorageValue>>;
  /** The last check with PortOne's API: when, what it changed, and any failure (null: never). */
  reconciliation: MetaValues["reconciled"] | null;
  /** When the history was purged after the retention period (null: kept). */
  purged_at: string | null;
}

/** SQL for an epoch-milliseconds column as ISO 8601 text (NULL stays NULL). */
const iso = (column: string): string => `strftime('%Y-%m-%dT%H:%M:%fZ', ${column} / 1000.0, 'unixepoch')`;

/** Each delivery with the time it will next be tried (epoch ms, `due`): a pending one never before the
 *  head of its destination's queue (it waits behind it) nor before now; NULL once delivered or dead. */
const DELIVERIES_DUE = `SELECT d.*, CASE WHEN d.state = 'pending'
      THEN max(d.next_attempt_at, coalesce(h.at, 0), ?) END AS due
    FROM deliveries d LEFT JOIN
      (SELECT destination, next_attempt_at AS at, min(seq) FROM deliveries WHERE state = 'pending' GROUP BY destination) h
      ON h.destination = d.destination`;

export function inspectObject(sql: SqlStorage, now: number): ObjectReport {
  const rows = (query: string, ...args: SqlStorageValue[]) =>
    sql
      .exec(query, ...args)
      .toArray()
      .map((row) => ({ ...row }));
  return {
    state: rows("SELECT provider, kind, object_ref, status, terminal, last_event_id, updated_at FROM object_state"),
    events: rows(
      `SELECT e.seq, e.event_id, e.provider, e.kind, e.object_ref, e.status, e.outcome, e.previous_status, e.received_at,
              e.source, e.data,
              CASE WHEN json_valid(e.unverified) THEN (SELECT group_concat(key, ', ') FROM json_each(e.unverified)) END
                AS unverified_keys,
              CASE WHEN o.delivery IS NULL AND e.filtered IS NOT NULL THEN 'filtered' ELSE o.delivery END AS delivery,
              e.filtered AS filtered_at,
              o.attempts_this_cycle, ${iso("n.due")} AS next_attempt_at, o.last_error
         FROM events e LEFT JOIN (${DELIVERY_PER_EVENT}) o ON o.seq = e.seq
              LEFT JOIN (SELECT seq, min(due) AS due FROM (${DELIVERIES_DUE}) GROUP BY seq) n ON n.seq = e.seq
        ORDER BY e.seq`,
      now,
    ),
    // Each event's state at each destination: queued ones from the queue, and `filtered` where the
    // destination's filter did not match it (nothing was queued there).
    deliveries: rows(
      `SELECT seq, event_id, destination, state, cycle_attempts AS attempts_this_cycle,
              ${iso("due")} AS next_attempt_at, last_error
         FROM (${DELIVERIES_DUE})
       UNION ALL
       SELECT e.seq, e.event_id, f.value, 'filtered', 0, NULL, NULL
         FROM events e, json_each(e.filtered) f WHERE e.filtered IS NOT NULL
        ORDER BY seq, destination`,
      now,
    ),
    attempts: rows(
      `SELECT event_id, destination, ${iso("started_at")} AS started_at, ${iso("finished_at")} AS finished_at, outcome, http_status, error
         FROM (${ALL_ATTEMPTS}) ORDER BY started_at, id IS NULL, id`,
    ),
    reconciliation: meta.get(sql, "reconciled"),
    purged_at: meta.get(sql, "purged_at"),
    confirmations: rows(
      `SELECT confirmer, subject, parent_ref, state, hinted_status AS claimed_status, confirmed_status, confirm_attempts,
              ${iso("next_attempt_at")} AS next_attempt_at, last_error, ${iso("updated_at")} AS updated_at
         FROM confirmations ORDER BY subject`,
    ),
    // PortOne's refunds, under the names the report has always given them.
    refunds: rows(
      `SELECT subject AS refund_id, parent_ref AS payment_txn_ref, state, confirmed_status, confirm_attempts,
              ${iso("next_attempt_at")} AS next_attempt_at, last_error, ${iso("updated_at")} AS updated_at
         FROM confirmations WHERE confirmer = 'portone-refund' ORDER BY subject`,
    ),
  };
}
