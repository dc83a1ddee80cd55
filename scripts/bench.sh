#!/usr/bin/env bash
# Load benchmark for the core issue: POST /v1/submissions on both stores, driven from loopback,
# next to pgbench with a single-row INSERT at the same concurrency on the same PostgreSQL.
#
#   ./scripts/bench.sh                     both stores (PostgreSQL from BENCH_DATABASE_URL)
#   STORES=sqlite ./scripts/bench.sh       one store
#   DURATION=20 CONNECTIONS=32 RATE=1000   knobs (seconds, connections, constant-rate req/s)
#   WRITERS=n                              group-commit writers (database.writers)
#
# Maximum throughput: wrk, closed loop, CONNECTIONS connections for DURATION seconds.
# Latency: vegeta, open loop at a constant RATE requests/s for DURATION seconds (p50/p99).
# Generator and gateway share the machine: compare figures from the same run. No case system is
# configured, so the figures are the intake path alone (forwarding is measured by
# scripts/bench-forward.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/toolchain.sh
. scripts/benchlib.sh

DURATION="${DURATION:-20}"
CONNECTIONS="${CONNECTIONS:-32}"
RATE="${RATE:-1000}"
STORES="${STORES:-sqlite postgres}"
PORT="${PORT:-18080}"
ADMIN_URL="${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}"
KEY="bench-key-$(date +%s)"
KEY_SHA=$(printf '%s' "$KEY" | sha256sum | cut -d' ' -f1)
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT

need() {
  command -v "$1" >/dev/null 2>&1 && return
  case "$1" in
    wrk|pgbench|psql) echo "installing $1"; apt-get update -qq && apt-get install -y -qq "$( [ "$1" = wrk ] && echo wrk || echo postgresql-client)" >/dev/null ;;
    vegeta) echo "installing vegeta"; GOFLAGS= go install github.com/tsenart/vegeta/v12@v12.13.0; export PATH="$PATH:$(go env GOPATH)/bin" ;;
  esac
}
export PATH="$PATH:$(go env GOPATH)/bin"
need wrk; need vegeta; need psql; need pgbench

go build -o "$WORK/intake-gateway" ./cmd/intake-gateway
go build -o "$WORK/loadgen" ./scripts/loadgen
"$WORK/loadgen" -mode wrk -key "$KEY" -prefix "wrk-$RANDOM" > "$WORK/post.lua"

BENCH_DB="intake_bench_$$"

summary=()
run_store() {
  local store=$1 dburl=""
  if [ "$store" = postgres ]; then
    psql "$ADMIN_URL" -qc "DROP DATABASE IF EXISTS $BENCH_DB" -qc "CREATE DATABASE $BENCH_DB"
    dburl=$(db_url "$BENCH_DB")
  fi
  cat > "$WORK/$store.yaml" <<YAML
server: { listen: "127.0.0.1:$PORT", request_timeout: 10s }
database: { url: "$dburl", sqlite_path: "$WORK/$store.db"${WRITERS:+, writers: $WRITERS} }
log: { level: info, format: json }
rate_limits: { api_key: { rate: 0 } }
api_keys: [{ name: bench, sha256: "$KEY_SHA", scopes: [submit, read] }]
YAML
  "$WORK/intake-gateway" serve --config "$WORK/$store.yaml" > "$WORK/$store.log" 2>&1 &
  local pid=$!
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.1; done
  curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null || { echo "gateway did not start:"; cat "$WORK/$store.log"; exit 1; }

  echo "== $store: wrk -t2 -c$CONNECTIONS -d${DURATION}s POST /v1/submissions"
  wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "$WORK/post.lua" "http://127.0.0.1:$PORT/v1/submissions" | tee "$WORK/$store.wrk"
  local rps; rps=$(awk '/^Requests\/sec/ {print $2}' "$WORK/$store.wrk")

  echo "== $store: vegeta constant ${RATE}/s for ${DURATION}s"
  # loadgen streams targets until vegeta stops reading; its broken pipe is expected.
  { "$WORK/loadgen" -mode vegeta -url "http://127.0.0.1:$PORT/v1/submissions" -key "$KEY" -prefix "veg-$RANDOM" || true; } \
    | vegeta attack -lazy -format=json -rate="$RATE" -duration="${DURATION}s" -max-workers=256 \
    | vegeta report -type=text | tee "$WORK/$store.veg"
  local lat; lat=$(awk '/^Latencies/ {print "p50="$(NF-4)" p99="$(NF-1)}' "$WORK/$store.veg" | tr -d ',')
  local ok; ok=$(awk '/^Success/ {print $NF}' "$WORK/$store.veg")

  kill "$pid"; wait "$pid" 2>/dev/null || true
  summary+=("$store: max ${rps} req/s (wrk, ${CONNECTIONS} conns); at ${RATE}/s: ${lat} success=${ok}")
}

for s in $STORES; do run_store "$s"; done

if [[ " $STORES " == *" postgres "* ]]; then
  echo "== pgbench: single-row INSERT, -c$CONNECTIONS -j2 -T$DURATION, same PostgreSQL"
  url=$(db_url "$BENCH_DB")
  psql "$url" -qc "CREATE TABLE IF NOT EXISTS pgbench_insert (id bigserial PRIMARY KEY, payload text NOT NULL, at timestamptz NOT NULL DEFAULT now())"
  echo "INSERT INTO pgbench_insert (payload) VALUES ('小区门口的路灯坏了快一个星期了，晚上出门特别黑，请尽快派人维修。');" > "$WORK/insert.sql"
  pgbench -n -c "$CONNECTIONS" -j 2 -T "$DURATION" -f "$WORK/insert.sql" "$url" | tee "$WORK/pgbench.out"
  tps=$(awk '/^tps/ {print $3; exit}' "$WORK/pgbench.out")
  summary+=("pgbench single-row INSERT: ${tps} tx/s (${CONNECTIONS} clients)")
  psql "$ADMIN_URL" -qc "DROP DATABASE IF EXISTS $BENCH_DB WITH (FORCE)"
fi

echo
echo "== summary ($(nproc) cores, $(date -u +%FT%TZ))"
printf '%s\n' "${summary[@]}"
