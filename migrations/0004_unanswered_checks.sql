-- How many of a pass's checks got no answer PortOne's API could give (an unknown reference, 4096 /
-- 4001; an unreadable or unavailable answer), so operators see "3 checked, 0 found, 3 unanswered"
-- instead of a pass that seems to have found nothing.
ALTER TABLE reconcile_passes ADD COLUMN unanswered INTEGER NOT NULL DEFAULT 0;
