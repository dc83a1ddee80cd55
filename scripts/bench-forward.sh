#!/usr/bin/env bash
# Forwarding benchmark (issue 6), on PostgreSQL:
#   1. the case system is down while BACKLOG submissions arrive (over HTTP, as in production);
#   2. it comes back: how long until that backlog is delivered, and at what rate (no other load);
#   3. a second backlog drains while submissions keep arriving: the submission rate then,
#      against the rate measured just before on the same database with the backlog waiting.
#
#   ./scripts/bench-forward.sh          BACKLOG=100000 WORKERS=200 CONNECTIONS=32
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/toolchain.sh
BACKLOG="${BACKLOG:-100000}"
WORKERS="${WORKERS:-200}"
CONNECTIONS="${CONNECTIONS:-32}"
PORT=18082
CS_PORT=19090
ADMIN_URL="${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}"
KEY="fwbench-$(date +%s)"
KEY_SHA=$(printf '%s' "$KEY" | sha256sum | cut -d' ' -f1)
WORK=$(mktemp -d)
DB="intake_fwbench_$$"
trap 'kill $(jobs -p) 2>/dev/null || true; psql "$ADMIN_URL" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT
export PATH="$PATH:$(go env GOPATH)/bin"
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }

go build -o "$WORK/intake-gateway" ./cmd/intake-gateway
go build -o "$WORK/fakecs" ./scripts/fakecasesystem
go build -o "$WORK/loadgen" ./scripts/loadgen
psql "$ADMIN_URL" -qc "DROP DATABASE IF EXISTS $DB" -qc "CREATE DATABASE $DB"
DBURL=$(python3 -c "import sys,urllib.parse as u;p=u.urlparse(sys.argv[1]);print(u.urlunparse(p._replace(path='/'+sys.argv[2])))" "$ADMIN_URL" "$DB")
q() { psql "$DBURL" -Atc "$1"; }

"$WORK/fakecs" -listen "127.0.0.1:$CS_PORT" -down > "$WORK/fakecs.log" 2>&1 &
cat > "$WORK/g.yaml" <<YAML
server: { listen: "127.0.0.1:$PORT", request_timeout: 10s, admin_listen: "127.0.0.1:6061" }
rate_limits: { api_key: { rate: 0 } }
database: { url: "$DBURL", max_conns: ${MAX_CONNS:-0} }
log: { level: warn }
api_keys: [{ name: bench, sha256: "$KEY_SHA", scopes: [submit, read] }]
case_systems: [{ name: default, url: "http://127.0.0.1:$CS_PORT/cases", secret: bench-secret }]
forwarding: { workers: $WORKERS, breaker_min: 1s, breaker_max: 5s }
YAML
"$WORK/intake-gateway" serve --config "$WORK/g.yaml" > "$WORK/gw.log" 2>&1 &
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.1; done

submit_for() { # seconds → accepted submissions/s (a run with non-201 answers stops the benchmark)
  "$WORK/loadgen" -mode wrk -key "$KEY" -prefix "w$RANDOM$1" > "$WORK/post.lua"
  wrk -t2 -c"$CONNECTIONS" -d"${1}s" -s "$WORK/post.lua" "http://127.0.0.1:$PORT/v1/submissions" > "$WORK/wrk.out"
  if ! grep -q 'status=0 ' "$WORK/wrk.out"; then echo "submissions failed:" >&2; cat "$WORK/wrk.out" "$WORK/gw.log" >&2; exit 1; fi
  awk '/^Requests\/sec/ {print $2}' "$WORK/wrk.out"
}
fill_backlog() { # until BACKLOG deliveries wait
  while [ "$(q "select count(*) from deliveries where state = 'queued'")" -lt "$BACKLOG" ]; do submit_for 10 >/dev/null; done
}
drain() { # → seconds until every delivery created before now is delivered
  local t0 since=$(q "select now()") start=$(date +%s.%N)
  curl -s -X POST "http://127.0.0.1:$CS_PORT/admin/up"
  while [ "$(q "select count(*) from deliveries where created_at < '$since' and state = 'queued'")" -gt 0 ]; do sleep 0.5; done
  echo "$(date +%s.%N) - $start" | bc
}

echo "== baseline: submissions with no backlog (case system down, queue paused), ${BASELINE:-20} s"
base=$(submit_for "${BASELINE:-20}")
echo "   $base submissions/s"
echo "== filling a backlog of $BACKLOG deliveries while the case system is down"
fill_backlog
n1=$(q "select count(*) from deliveries where state = 'queued'")
echo "== case system back: draining $n1 deliveries with no other load"
t1=$(drain)
rate1=$(echo "$n1 / $t1" | bc)
echo "   drained in ${t1}s: $rate1 deliveries/s"

curl -s -X POST "http://127.0.0.1:$CS_PORT/admin/down"
sleep 8 # the breaker opens and the queue pauses
echo "== second backlog"
fill_backlog
echo "== submissions with the backlog waiting (queue paused), same database, 20 s"
paused=$(submit_for 20)
echo "   $paused submissions/s"
n2=$(q "select count(*) from deliveries where state = 'queued'")
echo "== draining $n2 deliveries while submissions keep arriving (20 s of load)"
since=$(q "select now()")
curl -s -X POST "http://127.0.0.1:$CS_PORT/admin/up"
start=$(date +%s.%N)
during=$(submit_for 20)
while [ "$(q "select count(*) from deliveries where created_at < '$since' and state = 'queued'")" -gt 0 ]; do sleep 0.5; done
t2=$(echo "$(date +%s.%N) - $start" | bc)

echo
echo "== summary ($(nproc) cores, $(date -u +%FT%TZ), PostgreSQL, $WORKERS forwarding workers)"
echo "backlog of $n1 drained in ${t1}s with no other load: $rate1 deliveries/s"
echo "backlog of $n2 drained in ${t2}s while submissions arrived"
echo "submissions: $base/s on the empty database; $paused/s with the backlog waiting; $during/s while it drained ($(echo "scale=1; 100 * $during / $paused" | bc)% of the rate just before)"
echo "the case system accepted $(curl -s "http://127.0.0.1:$CS_PORT/admin/count") deliveries; dead: $(q "select count(*) from deliveries where state = 'dead'")"
