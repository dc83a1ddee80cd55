-- Copies the cases the gateway wrote (listed in growth_templates) once more, K×6 days earlier,
-- with every row forwarding added: the case with its record, raw payload and status history,
-- its delivery and attempt. Ids are time-ordered like the gateway's (UUIDv7 layout, from the new
-- time), phone numbers random, case numbers those of the earlier day, external ids suffixed: the
-- indexes grow as the gateway's own writes would grow them. The figures' columns (migration 00013)
-- are copied as the record is: its deadline unchanged, the first resolution shifted with the
-- history. Run by bench-growth.sh with -v k=K.
\set ON_ERROR_STOP on
BEGIN;
CREATE TEMP TABLE m ON COMMIT DROP AS
  SELECT t.id AS old_id, t.case_no AS old_no, ts,
         (lpad(to_hex((extract(epoch FROM ts) * 1000)::bigint), 12, '0') || '7' ||
          substr(md5(random()::text), 1, 3) || '8' || substr(md5(random()::text), 1, 15))::uuid AS new_id,
         :prefix || to_char(ts AT TIME ZONE 'Asia/Shanghai', 'YYYYMMDD') || substr(t.case_no, length(:prefix) + 9) AS new_no,
         :k * interval '6 days' AS shift
  FROM (SELECT c.id, c.case_no, c.received_at - :k * interval '6 days' AS ts
        FROM cases c JOIN growth_templates g USING (id)) t;
INSERT INTO cases (id, case_no, channel, channel_id, external_id, status, priority, received_at, payload_hash,
                   citizen_phone, citizen_openid, citizen_weibo_uid, case_ref, record, updated_at, merged_count,
                   category, request_type, emergency, needs_review, due_at, first_resolved_at)
  SELECT m.new_id, m.new_no, c.channel, c.channel_id, c.external_id || '~' || :k, c.status, c.priority, m.ts, c.payload_hash,
         CASE WHEN c.citizen_phone IS NOT NULL THEN '+86138' || lpad((floor(random() * 100000000))::bigint::text, 8, '0') END,
         c.citizen_openid, c.citizen_weibo_uid, 'CS-' || m.new_no,
         replace(replace(c.record::text, c.id::text, m.new_id::text), c.case_no, m.new_no)::json,
         c.updated_at - m.shift, c.merged_count,
         c.category, c.request_type, c.emergency, c.needs_review, c.due_at, c.first_resolved_at - m.shift
  FROM m JOIN cases c ON c.id = m.old_id;
INSERT INTO case_payloads (case_id, content_type, body, received_at)
  SELECT m.new_id, p.content_type, p.body, p.received_at - m.shift FROM m JOIN case_payloads p ON p.case_id = m.old_id;
INSERT INTO case_status_history (case_id, status, at, source, event_id, department, message, recorded_at, event)
  SELECT m.new_id, h.status, h.at - m.shift, h.source, h.event_id, h.department, h.message, h.recorded_at - m.shift, h.event
  FROM m JOIN case_status_history h ON h.case_id = m.old_id ORDER BY h.at;
CREATE TEMP TABLE md ON COMMIT DROP AS
  SELECT d.id AS old_id, m.new_id AS case_id, m.shift,
         (lpad(to_hex((extract(epoch FROM d.created_at - m.shift) * 1000)::bigint), 12, '0') || '7' ||
          substr(md5(random()::text), 1, 3) || '8' || substr(md5(random()::text), 1, 15))::uuid AS new_id
  FROM m JOIN deliveries d ON d.case_id = m.old_id;
INSERT INTO deliveries (id, case_id, event, target, state, attempts, last_error, created_at, updated_at)
  SELECT md.new_id, md.case_id, d.event, d.target, d.state, d.attempts, d.last_error, d.created_at - md.shift, d.updated_at - md.shift
  FROM md JOIN deliveries d ON d.id = md.old_id;
INSERT INTO delivery_attempts (delivery_id, attempt, at, status_code, error, duration_us)
  SELECT md.new_id, a.attempt, a.at - md.shift, a.status_code, a.error, a.duration_us
  FROM md JOIN delivery_attempts a ON a.delivery_id = md.old_id;
COMMIT;
