#!/usr/bin/env bash
# CPU time per WeChat push — the gateway process plus its PostgreSQL backends — at a constant
# rate. Unlike a maximum rate, CPU per request hardly moves when other work shares the machine,
# so two builds can be compared on a busy host (run them alternately, several times):
#   GATEWAY_BIN=/tmp/a scripts/bench-cpu.sh; GATEWAY_BIN=/tmp/b scripts/bench-cpu.sh
# WECHAT_MODE=plain|safe (default plain: every push's signature is claimed against replays),
# RATE (default 600/s), DURATION (default 15 s).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/toolchain.sh
MODE="${WECHAT_MODE:-plain}"; RATE="${RATE:-600}"; DUR="${DURATION:-15}"; PORT=18093
ADMIN_URL="${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}"
WORK=$(mktemp -d); DB="intake_cpubench_$$"
trap 'kill $(jobs -p) 2>/dev/null || true; sleep 0.5; psql "$ADMIN_URL" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT
export PATH="$PATH:$(go env GOPATH)/bin"
command -v vegeta >/dev/null || GOFLAGS= go install github.com/tsenart/vegeta/v12@v12.13.0
if [ -n "${GATEWAY_BIN:-}" ]; then cp "$GATEWAY_BIN" "$WORK/intake-gateway"; else go build -o "$WORK/intake-gateway" ./cmd/intake-gateway; fi
go build -o "$WORK/loadgen" ./scripts/loadgen
psql "$ADMIN_URL" -qc "CREATE DATABASE $DB"
DBURL=$(python3 -c "import sys,urllib.parse as u;p=u.urlparse(sys.argv[1]);print(u.urlunparse(p._replace(path='/'+sys.argv[2])))" "$ADMIN_URL" "$DB")
BASE="http://127.0.0.1:$PORT"
PLAIN_FLAG=""; [ "$MODE" = plain ] && PLAIN_FLAG="-plain"
cat > "$WORK/g.yaml" <<YAML
server: { listen: "127.0.0.1:$PORT", public_base_url: "$BASE", request_timeout: 10s }
database: { url: "$DBURL" }
log: { level: warn }
channels:
  - { id: wechat-bench, type: wechat, app_id: wxbench0000000001, app_secret: s, token: benchtoken,
      encoding_aes_key: jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C, mode: $MODE, account_id: gh_bench00000001 }
YAML
"$WORK/intake-gateway" serve --config "$WORK/g.yaml" > "$WORK/gw.log" 2>&1 &
GW=$!
for _ in $(seq 1 100); do curl -sf "$BASE/readyz" >/dev/null && break; sleep 0.1; done
"$WORK/loadgen" -mode wechat $PLAIN_FLAG -url "$BASE/hooks/wechat/wechat-bench" -prefix "w$RANDOM" -count $((RATE * 3)) > "$WORK/warm.json"
"$WORK/loadgen" -mode wechat $PLAIN_FLAG -url "$BASE/hooks/wechat/wechat-bench" -prefix "m$RANDOM" -count $((RATE * DUR)) > "$WORK/main.json"
vegeta attack -format=json -targets="$WORK/warm.json" -rate="$RATE" -duration=3s > /dev/null
ticks() { # utime+stime of the gateway, and of the gateway with the database's backends
  local all=0 p
  for p in $GW $(psql "$ADMIN_URL" -Atc "SELECT pid FROM pg_stat_activity WHERE datname = '$DB'"); do
    [ -r "/proc/$p/stat" ] && all=$((all + $(awk '{print $14 + $15}' "/proc/$p/stat")))
  done
  echo "$(awk '{print $14 + $15}' "/proc/$GW/stat") $all"
}
read -r g0 a0 < <(ticks)
vegeta attack -format=json -targets="$WORK/main.json" -rate="$RATE" -duration="${DUR}s" | vegeta report > "$WORK/r.txt"
read -r g1 a1 < <(ticks)
n=$((RATE * DUR)); hz=$(getconf CLK_TCK)
echo "WeChat $MODE mode at ${RATE}/s for ${DUR}s ($(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg)):" \
  "gateway $(( (g1 - g0) * 1000000 / hz / n )) µs CPU/request, with PostgreSQL $(( (a1 - a0) * 1000000 / hz / n )) µs;" \
  "p99 $(awk '/^Latencies/ {print $(NF-1)}' "$WORK/r.txt" | tr -d ,), success $(awk '/^Success/ {print $NF}' "$WORK/r.txt")"
