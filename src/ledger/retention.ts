// Retention: a finished object with nothing pending or dead and no activity for RETENTION_DAYS loses
// its payloads, attempts and history. What stays is a tombstone: for each of its objects (the ledger's
// own, a payment's refunds, a subscription's charges) the latest accepted event, with its identity,
// status and the state it left, but no payload. A replay of an old genuine body then meets a finished
// object and is `stale` (or `duplicate`, for the final event's own body): never forwarded again.

import { log } from "../lib/log";
import { meta } from "./meta";
import { objectNameParts } from "../providers/names";
import { rememberObjectName, storedObjectName } from "./object-name";
import type { LedgerStore } from "./store";

export interface PurgeResult {
  readonly purged: boolean;
  /** Why not, when not purged. */
  readonly reason?: string;
  readonly eventsRemoved: number;
  /** SQLite's database size before and after, in bytes (freed pages are reused, not returned). */
  readonly bytesBefore: number;
  readonly bytesAfter: number;
}

/** Why this object may not be purged yet at `cutoff` (ms), or null when it may. */
function holdsBack(sql: SqlStorage, { kind, ref }: { kind: string; ref: string }, cutoff: number): string | null {
  const state = sql
    .exec<{ terminal: number }>("SELECT terminal FROM object_state WHERE kind = ? AND object_ref = ?", kind, ref)
    .toArray()[0];
  if (state?.terminal !== 1) return "not finished";
  if (sql.exec("SELECT 1 FROM deliveries WHERE state <> 'delivered' LIMIT 1").toArray().length > 0)
    return "deliveries pending or dead";
  if (sql.exec("SELECT 1 FROM confirmations WHERE state = 'confirming' LIMIT 1").toArray().length > 0)
    return "a hint is being confirmed";
  const last = sql
    .exec<{ at: string | null; outbox: number | null }>(
      "SELECT (SELECT max(received_at) FROM events) AS at, (SELECT max(updated_at) FROM outbox) AS outbox",
    )
    .one();
  const lastActivity = Math.max(last.at === null ? 0 : Date.parse(last.at), last.outbox ?? 0);
  return lastActivity > cutoff ? "active within the retention period" : null;
}

/** Purges the ledger's history if it is finished, settled and quiet since `cutoff`; in one transaction. */
export function purge(store: LedgerStore, cutoff: number, now: number): PurgeResult {
  const sql = store.sql;
  const bytesBefore = sql.databaseSize;
  const name = storedObjectName(sql);
  const reason = name === null ? "nothing recorded" : holdsBack(sql, objectNameParts(name), cutoff);
  if (reason !== null) return { purged: false, reason, eventsRemoved: 0, bytesBefore, bytesAfter: bytesBefore };
  const removed = store.write(() => {
    if (name !== null) rememberObjectName(sql, name);
    // One tombstone per lifecycle: the object's own, each refund's, each subscription charge's (its
    // data.order_ref, read before the payloads are emptied).
    const tombstones = `SELECT max(seq) FROM events WHERE outcome = 'accepted'
      GROUP BY kind, object_ref,
               CASE WHEN kind = 'subscription_charge' AND json_valid(data) THEN json_extract(data, '$.order_ref') END`;
    const gone = sql.exec(`DELETE FROM events WHERE seq NOT IN (${tombstones})`).rowsWritten;
    sql.exec("UPDATE events SET data = '{}', unverified = NULL, destinations = NULL");
    sql.exec("DELETE FROM outbox");
    sql.exec("DELETE FROM delivery_attempts");
    sql.exec("DELETE FROM hints");
    sql.exec("DELETE FROM confirmations WHERE state <> 'confirming'");
    meta.set(sql, "purged_at", new Date(now).toISOString());
    // The outbox's change counter starts again from 0: so does the read model's cursor (the caller
    // reloads its feed from this checkpoint).
    const seq = sql.exec<{ seq: number }>("SELECT coalesce(max(seq), 0) AS seq FROM events").one().seq;
    meta.set(sql, "read_model_cursor", { seq, changed: 0 });
    return gone;
  });
  const fields = { object_name: name, events_removed: removed };
  log("info", "history purged after the retention period", fields);
  return { purged: true, eventsRemoved: removed, bytesBefore, bytesAfter: sql.databaseSize };
}
