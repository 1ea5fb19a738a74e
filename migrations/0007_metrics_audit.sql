-- Metrics and the operators' audit log (GET /admin/metrics, GET /admin/audit).
-- Each event's destinations by state, as pending_to is: ",erp,default," (NULL: none), so deliveries can be
-- counted per destination and state.
ALTER TABLE events ADD COLUMN delivered_to TEXT;
ALTER TABLE events ADD COLUMN dead_to TEXT;
-- Rows written before this migration do not say which destinations took them: they are counted for
-- `default` (the only destination of most deployments) until their object's next snapshot rewrites them.
UPDATE events SET delivered_to = ',default,' WHERE delivery = 'delivered';
UPDATE events SET dead_to = ',default,' WHERE delivery = 'dead';
-- What retention removed from `events`, so gateway_events_total never decreases.
CREATE TABLE purged_counts (
  provider TEXT NOT NULL,
  kind TEXT NOT NULL,
  outcome TEXT NOT NULL,
  n INTEGER NOT NULL,
  PRIMARY KEY (provider, kind, outcome)
);
-- Every operator action, newest last (`id` orders them). `dedupe` folds repeated entries into one (failed
-- logins: one per source address and minute, counted in `details`). No token, cookie or secret is kept.
CREATE TABLE audit_log (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  at INTEGER NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  target TEXT,
  result TEXT NOT NULL,
  details TEXT,
  dedupe TEXT UNIQUE
);
CREATE INDEX audit_by_at ON audit_log (at, id);
