#!/usr/bin/env bash
# The gateway's intake against the least a Go service can do (scripts/barehandler: echo, a
# validated JSON body, one pgx INSERT committed per request), with the same requests, on the same
# PostgreSQL, alternating in the same run. Prints each round, the medians and their ratio.
#
#   ./scripts/bench-bare.sh
#   RUNS=3 DURATION=20 CONNECTIONS=32   rounds, seconds per measurement, wrk connections
#   GATEWAY_BIN=path                    measure another build of the gateway
#
# Each round gives both a new empty database, so neither profits from the other's warm tables.
# Generator, servers and PostgreSQL share the machine: read the ratio, not the rates.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/toolchain.sh
. scripts/benchlib.sh

RUNS="${RUNS:-3}"
DURATION="${DURATION:-20}"
CONNECTIONS="${CONNECTIONS:-32}"
PORT="${PORT:-18091}"
BARE_PORT="${BARE_PORT:-18095}"
ADMIN_URL="${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}"
KEY="bench-key-$(date +%s)"
KEY_SHA=$(printf '%s' "$KEY" | sha256sum | cut -d' ' -f1)
WORK=$(mktemp -d)
DB="intake_bare_$$"
PID=""
cleanup() {
  [ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null || true
  psql "$ADMIN_URL" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
command -v psql >/dev/null || { apt-get update -qq && apt-get install -y -qq postgresql-client >/dev/null; }

if [ -n "${GATEWAY_BIN:-}" ]; then cp "$GATEWAY_BIN" "$WORK/intake-gateway"; else go build -o "$WORK/intake-gateway" ./cmd/intake-gateway; fi
go build -o "$WORK/barehandler" ./scripts/barehandler
go build -o "$WORK/loadgen" ./scripts/loadgen

fresh_db() { psql "$ADMIN_URL" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -qc "CREATE DATABASE $DB"; }
wait_up() { for _ in $(seq 1 600); do curl -s -o /dev/null "$1" && return; sleep 0.1; done; echo "server did not start"; cat "$WORK/server.log"; exit 1; }
stop() { kill "$PID"; wait "$PID" 2>/dev/null || true; PID=""; }

drive() { # drive URL: one wrk run with fresh keys and citizens; prints req/s and the non-2xx count
  "$WORK/loadgen" -mode wrk -key "$KEY" -prefix "b$RANDOM$RANDOM" > "$WORK/post.lua"
  wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" -s "$WORK/post.lua" "$1" > "$WORK/wrk.out"
  local bad; bad=$(awk '/Non-2xx/ {print $NF}' "$WORK/wrk.out")
  [ -z "$bad" ] || echo "   ($bad non-2xx answers)" >&2
  awk '/^Requests\/sec/ {print $2}' "$WORK/wrk.out"
}

gateway() {
  fresh_db
  cat > "$WORK/gateway.yaml" <<YAML
server: { listen: "127.0.0.1:$PORT", request_timeout: 10s }
database: { url: "$(db_url "$DB")", sqlite_path: "$WORK/unused.db" }
log: { level: warn, format: json }
api_keys: [{ name: bench, sha256: "$KEY_SHA", scopes: [submit, read] }]
# One client at full speed is what is measured: its per-key limit would answer most requests 429.
rate_limits: { api_key: { rate: 0 } }
YAML
  "$WORK/intake-gateway" serve --config "$WORK/gateway.yaml" > "$WORK/server.log" 2>&1 & PID=$!
  wait_up "http://127.0.0.1:$PORT/readyz"
  drive "http://127.0.0.1:$PORT/v1/submissions"; stop
}

bare() {
  fresh_db
  "$WORK/barehandler" -listen "127.0.0.1:$BARE_PORT" -db "$(db_url "$DB")" -conns "$CONNECTIONS" > "$WORK/server.log" 2>&1 & PID=$!
  wait_up "http://127.0.0.1:$BARE_PORT/"
  drive "http://127.0.0.1:$BARE_PORT/v1/submissions"; stop
}

echo "== $(nproc) cores; load average $(cut -d' ' -f1-3 /proc/loadavg)"
g=(); b=()
for r in $(seq 1 "$RUNS"); do
  g+=("$(gateway)"); b+=("$(bare)")
  echo "   round $r: gateway ${g[-1]} req/s, bare handler ${b[-1]} req/s (load average $(cut -d' ' -f1 /proc/loadavg))"
done
mg=$(median "${g[@]}"); mb=$(median "${b[@]}")
echo
echo "== summary ($(date -u +%FT%TZ), wrk -c$CONNECTIONS -d${DURATION}s, $RUNS rounds)"
echo "gateway POST /v1/submissions: median $mg req/s (${g[*]})"
echo "bare echo + validator + pgx:  median $mb req/s (${b[*]})"
echo "ratio gateway/bare: $(awk -v a="$mg" -v b="$mb" 'BEGIN {printf "%.2f", a/b}')"
