// The ledger's SQLite schema as numbered, append-only migrations, run by lib/migrations.ts. A
// migration, once released, is never edited: a change is a new entry, and fresh-schema.ts (what a new
// object gets at once) follows it.

import { clock } from "../lib/clock";
import {
  latestVersion as latestSchemaVersion,
  migrate as migrateSchema,
  replay as replaySchema,
  type Migration,
  type Schema,
} from "../lib/migrations";
import { DELIVERIES_VIEW, FRESH_SCHEMA, OBJECT_STATE_VIEW } from "./fresh-schema";
import { reidentify } from "./reidentify";

/** The `deliveries` view as version 8 created it (replaced by version 10; a released migration is
 *  never edited, so its text stays here). */
const DELIVERIES_VIEW_V8 = `CREATE VIEW deliveries AS
         SELECT seq, destination, event_id, state, cycle_attempts, next_attempt_at, last_error, updated_at, changed,
                attempt_started_at, delivered_at, http_status
           FROM outbox
         UNION ALL
         SELECT e.seq, d.value, e.event_id, 'pending', 0, 0, NULL, NULL, 0, NULL, NULL, NULL
           FROM events e, json_each(e.destinations) d
          WHERE e.destinations IS NOT NULL
            AND e.seq > coalesce((SELECT max(o.seq) FROM outbox o WHERE o.destination = d.value), 0)`;

/** The queue as migration 10 built it (before the not-ready count, migration 14). */
const DELIVERIES_VIEW_V10 = `CREATE VIEW deliveries AS
         SELECT seq, destination, event_id, state, cycle_attempts, next_attempt_at, last_error, updated_at, changed,
                attempt_started_at, delivered_at, http_status
           FROM outbox
         UNION ALL
         SELECT e.seq, d.value, e.event_id, 'pending', 0, 0, NULL, NULL, 0, NULL, NULL, NULL
           FROM events e, json_each(e.destinations) d
          WHERE e.destinations IS NOT NULL
            AND e.seq > max(
                  coalesce((SELECT max(o.seq) FROM outbox o WHERE o.destination = d.value AND o.state = 'pending'), 0),
                  coalesce((SELECT max(o.seq) FROM outbox o WHERE o.destination = d.value AND o.state = 'delivered'), 0),
                  coalesce((SELECT max(o.seq) FROM outbox o WHERE o.destination = d.value AND o.state = 'dead'), 0))`;

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    statements: [
      // One row per payment object held by this Durable Object (its name is provider:kind:ref).
      `CREATE TABLE object_state (
         kind TEXT NOT NULL,
         object_ref TEXT NOT NULL,
         provider TEXT NOT NULL,
         status TEXT NOT NULL,
         rank INTEGER,
         terminal INTEGER NOT NULL CHECK (terminal IN (0, 1)),
         last_event_id TEXT NOT NULL,
         updated_at TEXT NOT NULL,
         PRIMARY KEY (kind, object_ref)
       ) WITHOUT ROWID`,
      // Every genuine event ever received, accepted or stale, in arrival order.
      `CREATE TABLE events (
         seq INTEGER PRIMARY KEY AUTOINCREMENT,
         event_id TEXT NOT NULL UNIQUE,
         provider TEXT NOT NULL,
         kind TEXT NOT NULL,
         object_ref TEXT NOT NULL,
         status TEXT NOT NULL,
         outcome TEXT NOT NULL CHECK (outcome IN ('accepted', 'stale')),
         previous_status TEXT,
         received_at TEXT NOT NULL,
         payload TEXT NOT NULL
       )`,
    ],
  },
  {
    version: 2,
    statements: [
      // One row per accepted event to forward, in delivery order (seq = events.seq). Written in the
      // same transaction that records the event.
      `CREATE TABLE outbox (
         seq INTEGER PRIMARY KEY,
         event_id TEXT NOT NULL UNIQUE,
         state TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'dead')),
         cycle_attempts INTEGER NOT NULL DEFAULT 0,
         next_attempt_at INTEGER NOT NULL,
         last_error TEXT,
         updated_at INTEGER NOT NULL
       )`,
      "CREATE INDEX outbox_by_state ON outbox (state, seq)",
      // Every delivery attempt, written before the request that may fail (alarms run at least once).
      `CREATE TABLE delivery_attempts (
         id INTEGER PRIMARY KEY AUTOINCREMENT,
         event_id TEXT NOT NULL,
         started_at INTEGER NOT NULL,
         finished_at INTEGER,
         outcome TEXT NOT NULL CHECK (outcome IN ('in_flight', 'delivered', 'failed', 'interrupted')),
         http_status INTEGER,
         error TEXT
       )`,
      "CREATE INDEX delivery_attempts_by_event ON delivery_attempts (event_id, id)",
    ],
  },
  {
    version: 3,
    statements: [
      // Facts about this Durable Object itself, such as its name (provider:kind:ref).
      "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID",
      // Refund webhooks are unsigned hints (spec §4.4): each is kept, then confirmed with PortOne's API.
      `CREATE TABLE refund_hints (
         event_id TEXT PRIMARY KEY,
         refund_id TEXT NOT NULL,
         received_at TEXT NOT NULL,
         payload TEXT NOT NULL
       ) WITHOUT ROWID`,
      // One row per refund of this payment: where its confirmation with PortOne's API stands.
      `CREATE TABLE refunds (
         refund_id TEXT PRIMARY KEY,
         payment_txn_ref TEXT NOT NULL,
         state TEXT NOT NULL CHECK (state IN ('confirming', 'confirmed', 'unconfirmed')),
         confirm_attempts INTEGER NOT NULL DEFAULT 0,
         next_attempt_at INTEGER,
         confirmed_status TEXT,
         last_error TEXT,
         updated_at INTEGER NOT NULL
       ) WITHOUT ROWID`,
    ],
  },
  {
    version: 4,
    statements: [
      // The identity an event is deduplicated by: for PortOne's signed kinds, the kind plus the signed
      // fields only (an event id minted from unsigned fields let a replay with additions be a new
      // event). For new events it equals event_id; old events keep their event_id (the webhook-id the
      // origin already knows) and get their identity from the backfill of version 5.
      "ALTER TABLE events ADD COLUMN identity TEXT",
      // The part of the body no signature covers, forwarded apart as `unverified` (JSON, or NULL).
      "ALTER TABLE events ADD COLUMN unverified TEXT",
      // Where the gateway learned the event: 'webhook', or 'reconciliation' (PortOne's API).
      "ALTER TABLE events ADD COLUMN source TEXT NOT NULL DEFAULT 'webhook'",
      // SHA-256 of the body as received: a duplicate with another body is logged as a conflict.
      "ALTER TABLE events ADD COLUMN content_hash TEXT",
      "CREATE UNIQUE INDEX events_by_identity ON events (identity)",
    ],
  },
  {
    version: 5,
    statements: [],
    // Old events: identity and the data / unverified split, from the payload they stored whole.
    compute: reidentify,
  },
  {
    version: 6,
    statements: [
      // The outbox's change counter: set on every write to a row, so the read model's snapshot can
      // take what changed since the last one (read-model.ts) without a queue row per change.
      "ALTER TABLE outbox ADD COLUMN changed INTEGER NOT NULL DEFAULT 0",
    ],
  },
  {
    version: 7,
    statements: [
      // One queue per destination: an accepted event gets a row for each destination that takes its
      // type (order kept per object and destination). Rows from before destinations existed become
      // the `default` destination's, with their state, attempts and retry time unchanged.
      `CREATE TABLE outbox_by_destination (
         seq INTEGER NOT NULL,
         destination TEXT NOT NULL,
         event_id TEXT NOT NULL,
         state TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'dead')),
         cycle_attempts INTEGER NOT NULL DEFAULT 0,
         next_attempt_at INTEGER NOT NULL,
         last_error TEXT,
         updated_at INTEGER NOT NULL,
         changed INTEGER NOT NULL DEFAULT 0,
         PRIMARY KEY (seq, destination)
       ) WITHOUT ROWID`,
      `INSERT INTO outbox_by_destination
         SELECT seq, 'default', event_id, state, cycle_attempts, next_attempt_at, last_error, updated_at, changed
           FROM outbox`,
      "DROP TABLE outbox",
      "ALTER TABLE outbox_by_destination RENAME TO outbox",
      "CREATE INDEX outbox_by_state ON outbox (destination, state, seq)",
      "ALTER TABLE delivery_attempts ADD COLUMN destination TEXT NOT NULL DEFAULT 'default'",
    ],
  },
  {
    version: 8,
    statements: [
      // Fewer rows written per delivered event. The object's state is no longer a row of its own,
      // rewritten on every accepted event: each accepted event carries the state it left (rank
      // reached, terminal or not), and object_state becomes a view of the latest accepted event per
      // (kind, object_ref). The state rows of before are copied onto those latest events.
      "ALTER TABLE events ADD COLUMN state_rank INTEGER",
      "ALTER TABLE events ADD COLUMN state_terminal INTEGER",
      `UPDATE events SET
         state_rank = (SELECT s.rank FROM object_state s WHERE s.kind = events.kind AND s.object_ref = events.object_ref),
         state_terminal = (SELECT s.terminal FROM object_state s WHERE s.kind = events.kind AND s.object_ref = events.object_ref)
       WHERE seq IN (SELECT max(seq) FROM events WHERE outcome = 'accepted' GROUP BY kind, object_ref)`,
      "DROP TABLE object_state",
      OBJECT_STATE_VIEW,
      // An outbox row holds its current attempt: begun (attempt_started_at set before the request,
      // the attempt recorded before its request) and, once delivered, when and with what status.
      // delivery_attempts keeps only the attempts that are over and did not end the row's cycle
      // delivered (failed, interrupted) or that a redelivery moved aside: a first-try delivery
      // writes no attempt row at all.
      "ALTER TABLE outbox ADD COLUMN attempt_started_at INTEGER",
      "ALTER TABLE outbox ADD COLUMN delivered_at INTEGER",
      "ALTER TABLE outbox ADD COLUMN http_status INTEGER",
      // An accepted event names the destinations that take it (JSON array; NULL for events recorded
      // before, whose outbox rows were written with them), and its outbox row for a destination is
      // written only when its first attempt begins. Until then it waits in the view below, due at
      // once: a destination's rows are begun in seq order (always at its queue's head), so every
      // event after a destination's last row is one it has not begun yet.
      "ALTER TABLE events ADD COLUMN destinations TEXT",
      // The name of the Durable Object (provider:kind:ref), on the events that name it, instead of a
      // meta row written once per object.
      "ALTER TABLE events ADD COLUMN ledger TEXT",
      DELIVERIES_VIEW_V8,
    ],
  },
  {
    version: 9,
    statements: [
      // The column holds what is proven (the forwarded `data`), not the body as received: named so.
      "ALTER TABLE events RENAME COLUMN payload TO data",
    ],
  },
  {
    version: 10,
    statements: [
      // The same rows, without a walk over a destination's rows per event (O(n²) for a hot object; see the view).
      "DROP VIEW deliveries",
      DELIVERIES_VIEW_V10,
    ],
  },
  {
    version: 11,
    statements: [
      // The refund_status the latest hint claimed: a refund is confirmed again until PortOne's API
      // shows that status or a final one (confirm.ts).
      "ALTER TABLE refunds ADD COLUMN hinted_status TEXT",
      // When PortOne's API was last asked about the refund: hints never make it asked more than once a minute.
      "ALTER TABLE refunds ADD COLUMN asked_at INTEGER",
      // The WEBHOOK_SOURCES name the event arrived on (the envelope's source_name); NULL on PortOne's
      // own routes and for what PortOne's API answered.
      "ALTER TABLE events ADD COLUMN source_name TEXT",
    ],
  },
  {
    version: 12,
    statements: [
      // The forwarded type, where a scheme names it apart from the status (Pulse2Pay's `event` beside its
      // payment's status); NULL: provider.kind.status, as before.
      "ALTER TABLE events ADD COLUMN type TEXT",
    ],
  },
  {
    version: 13,
    statements: [
      // PortOne's refund hints become one kind of hint among others (Midtrans's and Payment Options'
      // notifications): each confirmed with its provider's API, named by the `confirmer` that asks.
      "ALTER TABLE refunds RENAME TO confirmations",
      "ALTER TABLE confirmations RENAME COLUMN refund_id TO subject",
      "ALTER TABLE confirmations RENAME COLUMN payment_txn_ref TO parent_ref",
      "ALTER TABLE confirmations ADD COLUMN confirmer TEXT NOT NULL DEFAULT 'portone-refund'",
      "ALTER TABLE refund_hints RENAME TO hints",
      "ALTER TABLE hints RENAME COLUMN refund_id TO subject",
    ],
  },
  {
    version: 14,
    statements: [
      // A destination that answers 404, 409 or 425 in an object's first minutes is not ready yet: its
      // quick retries are counted apart from the retry budget (alarm.ts).
      "ALTER TABLE outbox ADD COLUMN not_ready_attempts INTEGER NOT NULL DEFAULT 0",
      // The destinations whose filter an accepted event did not match (JSON list; NULL: none).
      "ALTER TABLE events ADD COLUMN filtered TEXT",
      // The provider's request as received ({"headers", "body": base64}), kept only for an event a
      // destination with "original": true takes.
      "ALTER TABLE events ADD COLUMN original TEXT",
      // An attempt may end not ready: the CHECK is widened by rebuilding the table.
      `CREATE TABLE delivery_attempts_v14 (
         id INTEGER PRIMARY KEY AUTOINCREMENT,
         event_id TEXT NOT NULL,
         started_at INTEGER NOT NULL,
         finished_at INTEGER,
         outcome TEXT NOT NULL CHECK (outcome IN ('in_flight', 'delivered', 'failed', 'interrupted', 'not_ready')),
         http_status INTEGER,
         error TEXT,
         destination TEXT NOT NULL DEFAULT 'default'
       )`,
      `INSERT INTO delivery_attempts_v14 (id, event_id, started_at, finished_at, outcome, http_status, error, destination)
         SELECT id, event_id, started_at, finished_at, outcome, http_status, error, destination FROM delivery_attempts`,
      "DROP TABLE delivery_attempts",
      "ALTER TABLE delivery_attempts_v14 RENAME TO delivery_attempts",
      "CREATE INDEX delivery_attempts_by_event ON delivery_attempts (event_id, id)",
      // The queue carries the not-ready count of each row.
      "DROP VIEW deliveries",
      DELIVERIES_VIEW,
    ],
  },
];

/** The ledger's schema: its migrations, and today's schema for a new object at once. */
export const LEDGER_SCHEMA: Schema = { migrations: MIGRATIONS, fresh: FRESH_SCHEMA };

/** Brings a ledger's schema up to date (lib/migrations.ts). */
export function migrate(storage: DurableObjectStorage): Promise<"fresh" | "migrated"> {
  return migrateSchema(storage, LEDGER_SCHEMA, new Date(clock.now()).toISOString());
}

/** Applies each of the ledger's migrations after `applied` (tests build old ledgers with it). */
export function replay(storage: DurableObjectStorage, applied: number): Promise<void> {
  return replaySchema(storage, LEDGER_SCHEMA, applied, new Date(clock.now()).toISOString());
}

export const latestVersion = (): number => latestSchemaVersion(LEDGER_SCHEMA);
