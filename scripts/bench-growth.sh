#!/usr/bin/env bash
# Growth benchmark: does intake keep its speed once the store is large? A gateway started afresh
# on a PostgreSQL store of FILL cases is measured against one on an empty store, in the same run.
#
#   ./scripts/bench-growth.sh                  fill (if needed) and measure, RUNS rounds
#   FILL=1000000 RUNS=3 DURATION=20 CONNECTIONS=32
#   GATEWAY_BIN=path                           measure another build (A/B: before and after a fix)
#   BIG_DB=intake_growth                       the filled database; it is kept, and a later run
#                                              reuses it while it holds at least FILL cases
#   STATS=missing                              delete the big store's planner statistics before each
#                                              start, as after pg_restore or with autovacuum off
#                                              (needs a superuser; default: analyzed)
#
#   FILL_MODE=clone SEED=30000                 (default) the gateway writes SEED cases, which are then
#                                              copied to FILL (scripts/growth-clone.sql); FILL_MODE=gateway
#                                              writes all FILL through the gateway (an hour on a busy
#                                              2-core machine)
#
# Filling goes through the gateway's own pipeline (POST /v1/submissions driven by wrk, unique
# Idempotency-Keys and phones), so the rows are exactly those the gateway writes. The cases are
# then marked forwarded with one SQL transaction that writes what forwarding writes (attempt,
# delivered delivery, forwarded status and its history entry) and drops the finished jobs as
# River's cleaner would a day later: forwarding a million cases through a case system would take
# as long again and adds nothing to what is measured. Then CHECKPOINT and VACUUM ANALYZE, as
# autovacuum leaves a store that has been running. Copies (FILL_MODE=clone) repeat those rows
# further back in time with new time-ordered ids, random phone numbers and their own case numbers
# and external ids, so every index holds FILL entries of the shape the gateway writes.
#
# Each round starts a FRESH gateway process on the big store (a process that did the filling
# keeps the plans it made while the tables were small and hides the effect), measures the
# maximum rate with wrk (closed loop, CONNECTIONS connections, DURATION seconds), stops it, and
# does the same on a new empty database. The summary gives the median of each and their ratio.
# Generator, gateway and PostgreSQL share the machine: compare figures from the same run.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/toolchain.sh
. scripts/benchlib.sh

FILL="${FILL:-1000000}"
RUNS="${RUNS:-3}"
STATS="${STATS:-analyzed}"
DURATION="${DURATION:-20}"
CONNECTIONS="${CONNECTIONS:-32}"
FILL_ROUND="${FILL_ROUND:-60}"
FILL_MODE="${FILL_MODE:-clone}"
SEED="${SEED:-30000}"
PORT="${PORT:-18090}"
BIG_DB="${BIG_DB:-intake_growth}"
ADMIN_URL="${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}"
KEY="bench-key-$(date +%s)"
KEY_SHA=$(printf '%s' "$KEY" | sha256sum | cut -d' ' -f1)
WORK=$(mktemp -d)
GW_PID=""
FRESH_DB="intake_growth_fresh_$$"
cleanup() {
  [ -n "$GW_PID" ] && kill "$GW_PID" 2>/dev/null && wait "$GW_PID" 2>/dev/null || true
  psql "$ADMIN_URL" -qc "DROP DATABASE IF EXISTS $FRESH_DB WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

need() {
  command -v "$1" >/dev/null 2>&1 && return
  echo "installing $1"
  apt-get update -qq && apt-get install -y -qq "$( [ "$1" = wrk ] && echo wrk || echo postgresql-client)" >/dev/null
}
need wrk; need psql

if [ -n "${GATEWAY_BIN:-}" ]; then
  cp "$GATEWAY_BIN" "$WORK/intake-gateway"
else
  go build -o "$WORK/intake-gateway" ./cmd/intake-gateway
fi
go build -o "$WORK/loadgen" ./scripts/loadgen

BIG_URL=$(db_url "$BIG_DB")

start_gateway() { # start_gateway DB_URL LOG
  cat > "$WORK/gateway.yaml" <<YAML
server: { listen: "127.0.0.1:$PORT", request_timeout: 10s }
database: { url: "$1", sqlite_path: "$WORK/unused.db" }
log: { level: warn, format: json }
api_keys: [{ name: bench, sha256: "$KEY_SHA", scopes: [submit, read] }]
# One client at full speed is what is measured: its per-key limit would answer most requests 429.
rate_limits: { api_key: { rate: 0 } }
YAML
  "$WORK/intake-gateway" serve --config "$WORK/gateway.yaml" > "$2" 2>&1 &
  GW_PID=$!
  for _ in $(seq 1 600); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && return; sleep 0.1; done
  echo "gateway did not start:"; cat "$2"; exit 1
}

stop_gateway() {
  kill "$GW_PID"; wait "$GW_PID" 2>/dev/null || true; GW_PID=""
}

# drive SECONDS: one wrk run with a script of its own (fresh keys and citizens); prints req/s.
drive() {
  "$WORK/loadgen" -mode wrk -key "$KEY" -prefix "g$RANDOM$RANDOM" > "$WORK/post.lua"
  wrk -t2 -c"$CONNECTIONS" -d"${1}s" -s "$WORK/post.lua" "http://127.0.0.1:$PORT/v1/submissions" > "$WORK/wrk.out"
  awk '/^Requests\/sec/ {print $2}' "$WORK/wrk.out"
}

cases_in() { psql "$1" -Atc "SELECT count(*) FROM cases" 2>/dev/null || echo 0; }

echo "== machine: $(nproc) cores; load average $(cut -d' ' -f1-3 /proc/loadavg); busiest processes:"
ps -eo pcpu,comm --sort=-pcpu | sed -n 2,6p

have=0
if psql "$ADMIN_URL" -Atc "SELECT 1 FROM pg_database WHERE datname = '$BIG_DB'" | grep -q 1; then
  have=$(cases_in "$BIG_URL")
fi
if [ "$have" -lt "$FILL" ]; then
  seed=$FILL; [ "$FILL_MODE" = clone ] && [ "$SEED" -lt "$FILL" ] && seed=$SEED
  if [ "$have" -lt "$seed" ]; then
    echo "== filling $BIG_DB to $seed cases through the gateway (has $have)"
    if [ "$have" -eq 0 ]; then
      psql "$ADMIN_URL" -qc "DROP DATABASE IF EXISTS $BIG_DB WITH (FORCE)" -qc "CREATE DATABASE $BIG_DB"
    fi
    start_gateway "$BIG_URL" "$WORK/fill.log"
    start=$(date +%s)
    while [ "$have" -lt "$seed" ]; do
      rate=$(drive "$FILL_ROUND")
      have=$(cases_in "$BIG_URL")
      echo "   $have cases ($rate req/s in the last round, $(( $(date +%s) - start ))s so far)"
    done
    stop_gateway
  fi
  echo "== marking the cases forwarded, as forwarding would have"
  psql "$BIG_URL" -v ON_ERROR_STOP=1 -q <<'SQL'
BEGIN;
INSERT INTO delivery_attempts (delivery_id, attempt, at, status_code, error, duration_us)
  SELECT id, 1, created_at + interval '150 ms', 201, '', 150000 FROM deliveries WHERE state = 'queued'
  ON CONFLICT DO NOTHING;
UPDATE deliveries SET state = 'delivered', attempts = 1, last_error = '', updated_at = created_at + interval '150 ms'
  WHERE state = 'queued';
INSERT INTO case_status_history (case_id, status, event, at, source, recorded_at)
  SELECT id, 'forwarded', 'forwarded', received_at + interval '150 ms', 'gateway', received_at + interval '150 ms'
  FROM cases WHERE status = 'received';
UPDATE cases SET status = 'forwarded', case_ref = 'CS-' || case_no, updated_at = received_at + interval '150 ms'
  WHERE status = 'received';
DELETE FROM river_job WHERE kind = 'forward_case';
COMMIT;
SQL
  if [ "$have" -lt "$FILL" ]; then
    psql "$BIG_URL" -qc "CREATE TABLE IF NOT EXISTS growth_templates AS SELECT id FROM cases"
    templates=$(psql "$BIG_URL" -Atc "SELECT count(*) FROM growth_templates")
    # The shortest number has the five-digit sequence; a busy day reaches six digits.
    prefix=$(psql "$BIG_URL" -Atc "SELECT substr(case_no, 1, length(case_no) - 13) FROM cases c JOIN growth_templates USING (id) ORDER BY length(case_no) LIMIT 1")
    echo "== copying the $templates cases the gateway wrote, each copy six days earlier, to $FILL cases"
    start=$(date +%s)
    while [ "$have" -lt "$FILL" ]; do
      k=$(( have / templates ))
      psql "$BIG_URL" -q -v k="$k" -v prefix="'$prefix'" -f scripts/growth-clone.sql
      have=$(cases_in "$BIG_URL")
      echo "   $have cases ($(( $(date +%s) - start ))s so far)"
    done
  fi
fi
echo "== CHECKPOINT and VACUUM ANALYZE on $BIG_DB"
psql "$BIG_URL" -qc "CHECKPOINT" -qc "VACUUM ANALYZE"
echo "   $(cases_in "$BIG_URL") cases, $(psql "$BIG_URL" -Atc "SELECT pg_size_pretty(pg_database_size(current_database()))")"

# forget_statistics leaves the intake tables as pg_restore does: rows, no planner statistics.
forget_statistics() {
  psql "$BIG_URL" -qc "DELETE FROM pg_statistic WHERE starelid IN ('cases'::regclass, 'case_status_history'::regclass,
    'case_messages'::regclass, 'citizen_locations'::regclass, 'deliveries'::regclass)"
}

big=(); fresh=()
for r in $(seq 1 "$RUNS"); do
  [ "$STATS" = missing ] && forget_statistics
  start_gateway "$BIG_URL" "$WORK/big.log"
  big+=("$(drive "$DURATION")"); stop_gateway
  psql "$ADMIN_URL" -qc "DROP DATABASE IF EXISTS $FRESH_DB WITH (FORCE)" -qc "CREATE DATABASE $FRESH_DB"
  start_gateway "$(db_url "$FRESH_DB")" "$WORK/fresh.log"
  fresh+=("$(drive "$DURATION")"); stop_gateway
  echo "   round $r: big store ${big[-1]} req/s, empty store ${fresh[-1]} req/s (load average $(cut -d' ' -f1 /proc/loadavg))"
done

mb=$(median "${big[@]}"); mf=$(median "${fresh[@]}")
echo
echo "== summary ($(nproc) cores, $(date -u +%FT%TZ), wrk -c$CONNECTIONS -d${DURATION}s, $RUNS rounds, big store statistics: $STATS)"
echo "fresh gateway on $(cases_in "$BIG_URL") cases: median $mb req/s (${big[*]})"
echo "fresh gateway on an empty store: median $mf req/s (${fresh[*]})"
echo "ratio big/empty: $(awk -v a="$mb" -v b="$mf" 'BEGIN {printf "%.2f", a/b}')"
