// The schema a new Durable Object gets in one step: what MIGRATIONS (schema.ts) build when replayed
// from nothing, written out as of the latest version. Every new payment object is a new Durable
// Object, so this saves replaying eight migrations (table rebuilds, ALTERs) per object; a test
// (test/migration.test.ts) replays them and compares tables, columns, indexes and views, so the two
// cannot drift apart. A new migration changes this file too.

/** The object's state: the latest accepted event of each (kind, object_ref) and the state it left. */
export const OBJECT_STATE_VIEW = `CREATE VIEW object_state AS
         SELECT e.kind, e.object_ref, e.provider, e.status, e.state_rank AS rank,
                coalesce(e.state_terminal, 0) AS terminal, e.event_id AS last_event_id, e.received_at AS updated_at
           FROM events e
          WHERE e.seq = (SELECT max(l.seq) FROM events l
                          WHERE l.kind = e.kind AND l.object_ref = e.object_ref AND l.outcome = 'accepted')`;

/** Every queue entry: outbox rows, and per destination the accepted events after its last row
 *  (not begun yet: due at once). A destination's last row is the largest of its last row in each
 *  state: each is one step down the index (destination, state, seq), where max(seq) over the
 *  destination alone walked all its rows, once per event (O(n²): 230 ms at 2,000 events of one
 *  object, for every query over this view). */
export const DELIVERIES_VIEW = `CREATE VIEW deliveries AS
         SELECT seq, destination, event_id, state, cycle_attempts, next_attempt_at, last_error, updated_at, changed,
                attempt_started_at, delivered_at, http_status, not_ready_attempts
           FROM outbox
         UNION ALL
         SELECT e.seq, d.value, e.event_id, 'pending', 0, 0, NULL, NULL, 0, NULL, NULL, NULL, 0
           FROM events e, json_each(e.destinations) d
          WHERE e.destinations IS NOT NULL
            AND e.seq > max(
                  coalesce((SELECT max(o.seq) FROM outbox o WHERE o.destination = d.value AND o.state = 'pending'), 0),
                  coalesce((SELECT max(o.seq) FROM outbox o WHERE o.destination = d.value AND o.state = 'delivered'), 0),
                  coalesce((SELECT max(o.seq) FROM outbox o WHERE o.destination = d.value AND o.state = 'dead'), 0))`;

export const FRESH_SCHEMA: readonly string[] = [
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
     data TEXT NOT NULL,
     identity TEXT,
     unverified TEXT,
     source TEXT NOT NULL DEFAULT 'webhook',
     content_hash TEXT,
     state_rank INTEGER,
     state_terminal INTEGER,
     destinations TEXT,
     ledger TEXT,
     source_name TEXT,
     type TEXT,
     filtered TEXT,
     original TEXT
   )`,
  "CREATE UNIQUE INDEX events_by_identity ON events (identity)",
  `CREATE TABLE outbox (
     seq INTEGER NOT NULL,
     destination TEXT NOT NULL,
     event_id TEXT NOT NULL,
     state TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'dead')),
     cycle_attempts INTEGER NOT NULL DEFAULT 0,
     next_attempt_at INTEGER NOT NULL,
     last_error TEXT,
     updated_at INTEGER NOT NULL,
     changed INTEGER NOT NULL DEFAULT 0,
     attempt_started_at INTEGER,
     delivered_at INTEGER,
     http_status INTEGER,
     not_ready_attempts INTEGER NOT NULL DEFAULT 0,
     PRIMARY KEY (seq, destination)
   ) WITHOUT ROWID`,
  "CREATE INDEX outbox_by_state ON outbox (destination, state, seq)",
  `CREATE TABLE delivery_attempts (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     event_id TEXT NOT NULL,
     started_at INTEGER NOT NULL,
     finished_at INTEGER,
     outcome TEXT NOT NULL CHECK (outcome IN ('in_flight', 'delivered', 'failed', 'interrupted', 'not_ready')),
     http_status INTEGER,
     error TEXT,
     destination TEXT NOT NULL DEFAULT 'default'
   )`,
  "CREATE INDEX delivery_attempts_by_event ON delivery_attempts (event_id, id)",
  "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID",
  `CREATE TABLE hints (
     event_id TEXT PRIMARY KEY,
     subject TEXT NOT NULL,
     received_at TEXT NOT NULL,
     payload TEXT NOT NULL
   ) WITHOUT ROWID`,
  `CREATE TABLE confirmations (
     subject TEXT PRIMARY KEY,
     parent_ref TEXT NOT NULL,
     state TEXT NOT NULL CHECK (state IN ('confirming', 'confirmed', 'unconfirmed')),
     confirm_attempts INTEGER NOT NULL DEFAULT 0,
     next_attempt_at INTEGER,
     confirmed_status TEXT,
     last_error TEXT,
     updated_at INTEGER NOT NULL,
     hinted_status TEXT,
     asked_at INTEGER,
     confirmer TEXT NOT NULL DEFAULT 'portone-refund'
   ) WITHOUT ROWID`,
  OBJECT_STATE_VIEW,
  DELIVERIES_VIEW,
];
