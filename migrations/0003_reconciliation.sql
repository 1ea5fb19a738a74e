-- Reconciliation and retention (design: "Reconciliation and retention"). Per object: when PortOne's
-- API was last asked about it, how many checks in a row found nothing (the backoff grows with it),
-- when it may be checked again, and when its history was purged (a tombstone stays in its ledger).
-- Per pass: what it checked and changed, and any configuration error, for operators. The sweep of
-- PortOne's payment list remembers its window and page here, so a pass resumes where the last stopped.
ALTER TABLE objects ADD COLUMN reconciled_at INTEGER;
ALTER TABLE objects ADD COLUMN reconcile_checks INTEGER NOT NULL DEFAULT 0;
ALTER TABLE objects ADD COLUMN reconcile_after INTEGER;
ALTER TABLE objects ADD COLUMN purged_at INTEGER;

CREATE TABLE reconcile_passes (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  trigger TEXT NOT NULL,                  -- cron | admin
  started_at INTEGER NOT NULL,
  finished_at INTEGER NOT NULL,
  checked INTEGER NOT NULL,
  changed INTEGER NOT NULL,
  api_calls INTEGER NOT NULL,
  listed INTEGER NOT NULL DEFAULT 0,      -- payments read from PortOne's list by the sweep
  recorded INTEGER NOT NULL DEFAULT 0,    -- of those, recorded as never heard of
  purged INTEGER NOT NULL DEFAULT 0,      -- objects whose history was purged
  error TEXT                              -- a configuration problem (auth) or why the pass stopped early
);

CREATE TABLE reconcile_sweep (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  window_from TEXT NOT NULL,              -- ISO time: payments created since
  window_to TEXT,                         -- ISO time the window in progress ends; NULL between windows
  next_page INTEGER NOT NULL DEFAULT 1
);
