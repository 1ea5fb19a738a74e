-- Each object's hints being confirmed with a provider's API (PortOne's refunds, Midtrans's and Payment
-- Options' notifications), as of its last snapshot: `confirming` still asked about, `unconfirmed` given up
-- after at least a day without an answer that settles them (an operator looks). The console counts them.
ALTER TABLE objects ADD COLUMN confirming INTEGER NOT NULL DEFAULT 0;
ALTER TABLE objects ADD COLUMN unconfirmed INTEGER NOT NULL DEFAULT 0;
CREATE INDEX objects_with_hints ON objects (last_seen_at) WHERE confirming > 0 OR unconfirmed > 0;
