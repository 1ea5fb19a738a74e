-- Which destinations an event still waits for, so operators see each destination's backlog
-- (GET /admin/destinations `pending`). A comma-wrapped list of names (",erp,default,"), NULL when
-- the event waits for none: the partial index holds only events with a backlog, and a delivered
-- event writes nothing to it.
ALTER TABLE events ADD COLUMN pending_to TEXT;
CREATE INDEX events_pending_to ON events (pending_to) WHERE pending_to IS NOT NULL;
