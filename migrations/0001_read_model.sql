-- The read model: a cross-object index of objects and events, written by each object's Durable
-- Object (its alarm applies snapshots in batches). It trails the ledgers by seconds and is never the
-- authority: the Durable Objects are. No payloads and no customer data: ids, statuses, times, counts.
-- Times are epoch milliseconds. Every row carries the ledger's `version` (the ledger's clock when the
-- snapshot was read): a snapshot older than the row it meets changes nothing, so applying twice, or
-- late, is harmless.

CREATE TABLE objects (
  object TEXT PRIMARY KEY,                 -- the ledger's name, provider:kind:ref
  provider TEXT NOT NULL,
  kind TEXT NOT NULL,
  object_ref TEXT NOT NULL,
  merchant_order_ref TEXT,
  status TEXT,
  finished INTEGER NOT NULL DEFAULT 0,
  first_seen_at INTEGER NOT NULL,
  last_seen_at INTEGER NOT NULL,
  pending INTEGER NOT NULL DEFAULT 0,
  delivered INTEGER NOT NULL DEFAULT 0,
  dead INTEGER NOT NULL DEFAULT 0,
  oldest_pending_at INTEGER,
  version INTEGER NOT NULL
);
CREATE INDEX objects_by_ref ON objects (object_ref);
CREATE INDEX objects_by_merchant_order_ref ON objects (merchant_order_ref);
CREATE INDEX objects_unfinished ON objects (finished, last_seen_at);

CREATE TABLE events (
  event_id TEXT PRIMARY KEY,
  object TEXT NOT NULL,                    -- the ledger it lives in (a refund lives in its payment's)
  provider TEXT NOT NULL,
  kind TEXT NOT NULL,
  object_ref TEXT NOT NULL,                -- the event's own object (for a refund, its refund_id)
  ledger_ref TEXT NOT NULL,                -- the ledger's object ref (for a refund, the payment's)
  merchant_order_ref TEXT,
  type TEXT NOT NULL,
  status TEXT NOT NULL,
  outcome TEXT NOT NULL,                   -- accepted | stale
  source TEXT NOT NULL,                    -- webhook | reconciliation
  received_at INTEGER NOT NULL,
  seq INTEGER NOT NULL,                    -- order in its ledger
  delivery TEXT,                           -- pending | delivered | dead; NULL for a stale event
  attempts INTEGER NOT NULL DEFAULT 0,
  last_error TEXT,
  delivered_at INTEGER,
  delivery_updated_at INTEGER,             -- when the delivery state last changed (a dead letter's time)
  version INTEGER NOT NULL
);
CREATE INDEX events_by_received ON events (received_at, event_id);
CREATE INDEX events_by_object_ref ON events (object_ref, received_at);
CREATE INDEX events_by_ledger_ref ON events (ledger_ref, received_at);
CREATE INDEX events_by_merchant_order_ref ON events (merchant_order_ref, received_at);
CREATE INDEX events_by_delivery ON events (delivery, received_at);
