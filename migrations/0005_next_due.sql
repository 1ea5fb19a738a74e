-- When each object's next piece of delivery work is due (epoch ms), as of its last snapshot: the cron's
-- watchdog wakes the objects whose work is overdue (their alarm was lost), by this and not by how long
-- their events have waited, so an outage (every object legitimately backing off) never hides a newer
-- object whose alarm is missing. NULL for rows written before; the watchdog then reads oldest_pending_at.
ALTER TABLE objects ADD COLUMN next_due_at INTEGER;
CREATE INDEX objects_overdue ON objects (next_due_at) WHERE pending > 0;
