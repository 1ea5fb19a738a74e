// The alerts object's SQLite schema as numbered, append-only migrations (lib/migrations.ts). Version 1
// is what the object created before it had migrations (each statement "IF NOT EXISTS", so an object
// that has those tables takes it as already applied).

import type { Schema } from "../lib/migrations";

export const ALERTS_SCHEMA: Schema = {
  migrations: [
    {
      version: 1,
      statements: [
        // One row per alert: opened once per key, counted while open, resolved (and kept 30 days).
        `CREATE TABLE IF NOT EXISTS alerts (
           id INTEGER PRIMARY KEY AUTOINCREMENT,
           key TEXT NOT NULL,
           kind TEXT NOT NULL,
           severity TEXT NOT NULL,
           state TEXT NOT NULL CHECK (state IN ('open', 'resolved')),
           opened_at INTEGER NOT NULL,
           last_at INTEGER NOT NULL,
           resolved_at INTEGER,
           count INTEGER NOT NULL,
           outstanding INTEGER NOT NULL DEFAULT 0,
           message TEXT NOT NULL,
           notified_at INTEGER NOT NULL
         )`,
        "CREATE UNIQUE INDEX IF NOT EXISTS alerts_open ON alerts (key) WHERE state = 'open'",
        // One row per notification owed to one ALERTS target: stored before it is sent, retried until sent.
        `CREATE TABLE IF NOT EXISTS notifications (
           id TEXT PRIMARY KEY,
           target TEXT NOT NULL,
           type TEXT NOT NULL,
           alert TEXT NOT NULL,
           created_at INTEGER NOT NULL,
           attempts INTEGER NOT NULL DEFAULT 0,
           next_attempt_at INTEGER NOT NULL,
           state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'failed')),
           last_error TEXT
         )`,
        "CREATE INDEX IF NOT EXISTS notifications_due ON notifications (state, next_attempt_at)",
      ],
    },
    {
      version: 2,
      statements: [
        // The alert row a notification is about, and whether it is an "opened" held back after a
        // quick reopen (dropped, unsent, if the alert resolves again within the grace).
        "ALTER TABLE notifications ADD COLUMN alert_id INTEGER",
        "ALTER TABLE notifications ADD COLUMN held INTEGER NOT NULL DEFAULT 0",
        // A resolved alert of the same key is looked up when one reopens.
        "CREATE INDEX alerts_by_key ON alerts (key, resolved_at)",
      ],
    },
    {
      version: 3,
      statements: [
        // Webhooks refused, by route pattern and answer (gateway_webhooks_rejected_total): isolates send
        // their counts in batches (rejected.ts), so this is written per batch, never per request.
        `CREATE TABLE rejections (
           route TEXT NOT NULL,
           reason TEXT NOT NULL,
           n INTEGER NOT NULL,
           PRIMARY KEY (route, reason)
         ) WITHOUT ROWID`,
      ],
    },
  ],
};
