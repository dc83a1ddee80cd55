-- Gives the benchmark store (scripts/bench-growth.sh leaves every case forwarded) the later life
-- of a hotline's cases, so that the console's figures have something to count: of the cases
-- received more than three days ago, nine in ten were resolved one to ten days after receipt
-- (some after their deadline), four in ten of those were then closed, and three in ten got a
-- satisfaction answer. Entries are what AddStatus and RecordFeedback write; the choice is a hash
-- of the case id, so a rerun on a copy picks the same cases. Run once, by scripts/statsbench's
-- -prepare, on a store of any schema version (first_resolved_at is kept from 00013 on).
\set ON_ERROR_STOP on
BEGIN;
CREATE TEMP TABLE r ON COMMIT DROP AS
  SELECT id, h, received_at + (1 + h % 9) * interval '1 day' + (h % 1440) * interval '1 minute' AS resolved_at
  FROM (SELECT id, received_at, abs(hashtext(id::text)) AS h FROM cases
        WHERE status IN ('received', 'forwarded') AND received_at < now() - interval '3 days') c
  WHERE h % 10 < 9;
INSERT INTO case_status_history (case_id, status, event, at, source, event_id, message, recorded_at)
  SELECT id, 'resolved', 'resolved', resolved_at, 'case-system', 'bench-resolved', '已办结', resolved_at FROM r;
INSERT INTO case_status_history (case_id, status, event, at, source, event_id, message, recorded_at)
  SELECT id, 'closed', 'closed', resolved_at + interval '2 days', 'case-system', 'bench-closed', '已结案', resolved_at + interval '2 days'
  FROM r WHERE h % 10 < 4;
INSERT INTO case_status_history (case_id, status, event, at, source, message, recorded_at)
  SELECT id, 'resolved', 'feedback', resolved_at + interval '1 day', 'citizen',
         (ARRAY['satisfied', 'basically_satisfied', 'dissatisfied'])[1 + h / 10 % 3] || ': 回访', resolved_at + interval '1 day'
  FROM r WHERE h / 100 % 10 < 3;
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM information_schema.columns WHERE table_name = 'cases' AND column_name = 'first_resolved_at') THEN
    EXECUTE $q$UPDATE cases c SET status = CASE WHEN r.h % 10 < 4 THEN 'closed' ELSE 'resolved' END,
                  first_resolved_at = r.resolved_at, updated_at = r.resolved_at FROM r WHERE c.id = r.id$q$;
  ELSE
    EXECUTE $q$UPDATE cases c SET status = CASE WHEN r.h % 10 < 4 THEN 'closed' ELSE 'resolved' END,
                  updated_at = r.resolved_at FROM r WHERE c.id = r.id$q$;
  END IF;
END
$$;
COMMIT;
