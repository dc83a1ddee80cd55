#!/usr/bin/env bash
# Channel webhooks under load (issues 3 and 4), on PostgreSQL (STORE=sqlite for the embedded one):
#   WeChat safe-mode text messages (signed and AES-encrypted like WeChat's) at a constant RATE,
#   then as fast as MAX_WORKERS concurrent senders can send them (default "32 128": 32 is bound by
#   the latency of one group commit, 128 keeps the gateway busy); Twilio SMS (signed like
#   Twilio's) at RATE.
# Every request is a new citizen's new message, so each one stores a case.
# On PostgreSQL's defaults (max_wal_size 1GB, no WAL compression) these rates fill the WAL budget
# in about a minute; a run whose 500/s window catches the WAL-triggered checkpoint shows a p99 of
# ~250 ms. README "Performance" gives the settings a production database should have.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/toolchain.sh
RATE="${RATE:-500}"
DURATION="${DURATION:-20}"
STORE="${STORE:-postgres}"
MAX_WORKERS="${MAX_WORKERS:-32 128}"
WECHAT_MODE="${WECHAT_MODE:-safe}"
PLAIN_FLAG=""
[ "$WECHAT_MODE" = plain ] && PLAIN_FLAG="-plain"
# MAX_ONLY=1: only the warm-up and the maximum-rate WeChat run.
# WRITERS=n: group-commit writers (database.writers).
# PROFILE=dir: save the gateway's CPU profile of the maximum-rate WeChat run there.
# WECHAT_MODE=plain: plaintext pushes instead of safe mode (each one's signature is then claimed
#   in the database against replays; see README "Channels").
PROFILE="${PROFILE:-}"
PORT=18083
ADMIN_URL="${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}"
WORK=$(mktemp -d)
DB="intake_chbench_$$"
trap 'kill $(jobs -p) 2>/dev/null || true; psql "$ADMIN_URL" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT
export PATH="$PATH:$(go env GOPATH)/bin"
command -v vegeta >/dev/null || GOFLAGS= go install github.com/tsenart/vegeta/v12@v12.13.0

# GATEWAY_BIN=path: measure that build instead (A/B comparisons in one session).
if [ -n "${GATEWAY_BIN:-}" ]; then cp "$GATEWAY_BIN" "$WORK/intake-gateway"; else go build -o "$WORK/intake-gateway" ./cmd/intake-gateway; fi
go build -o "$WORK/loadgen" ./scripts/loadgen
DBURL=""
if [ "$STORE" = postgres ]; then
  psql "$ADMIN_URL" -qc "DROP DATABASE IF EXISTS $DB" -qc "CREATE DATABASE $DB"
  DBURL=$(python3 -c "import sys,urllib.parse as u;p=u.urlparse(sys.argv[1]);print(u.urlunparse(p._replace(path='/'+sys.argv[2])))" "$ADMIN_URL" "$DB")
fi
BASE="http://127.0.0.1:$PORT"
cat > "$WORK/g.yaml" <<YAML
server: { listen: "127.0.0.1:$PORT", public_base_url: "$BASE", request_timeout: 10s, admin_listen: "127.0.0.1:16060" }
database: { url: "$DBURL", sqlite_path: "$WORK/ch.db"${WRITERS:+, writers: $WRITERS} }
log: { level: warn }
channels:
  - { id: wechat-bench, type: wechat, app_id: wxbench0000000001, app_secret: s, token: benchtoken,
      encoding_aes_key: jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C, mode: $WECHAT_MODE, account_id: gh_bench00000001 }
  - { id: sms-bench, type: twilio, account_sid: ACbench0000000000000000000000000000, auth_token: benchauthtoken0000000000000000aa, from: "+15005550006" }
YAML
"$WORK/intake-gateway" serve --config "$WORK/g.yaml" > "$WORK/gw.log" 2>&1 &
for _ in $(seq 1 100); do curl -sf "$BASE/readyz" >/dev/null && break; sleep 0.1; done

n=$((RATE * DURATION))
# A freshly started gateway opens its database connections and prepares its statements on the
# first requests (a ~100 ms stall in the first second); the warm-up takes that, at the same rate
# with its own citizens, and is reported on its own line so the start-up cost stays visible.
WARMUP="${WARMUP:-3}"
"$WORK/loadgen" -mode wechat $PLAIN_FLAG -url "$BASE/hooks/wechat/wechat-bench" -prefix "w$RANDOM" -count $((RATE * WARMUP)) > "$WORK/warm.json"
"$WORK/loadgen" -mode wechat $PLAIN_FLAG -url "$BASE/hooks/wechat/wechat-bench" -prefix "a$RANDOM" -count "$n" > "$WORK/wx.json"
for w in $MAX_WORKERS; do
  "$WORK/loadgen" -mode wechat $PLAIN_FLAG -url "$BASE/hooks/wechat/wechat-bench" -prefix "b$w$RANDOM" -count 200000 > "$WORK/wxmax-$w.json"
done
"$WORK/loadgen" -mode twilio -url "$BASE/hooks/twilio/sms-bench/sms" -prefix "$RANDOM" -count "$n" > "$WORK/sms.json"

echo "== warm-up: WeChat $WECHAT_MODE-mode text, constant ${RATE}/s for ${WARMUP}s on the freshly started gateway"
vegeta attack -format=json -targets="$WORK/warm.json" -rate="$RATE" -duration="${WARMUP}s" | vegeta report | tee "$WORK/warm.txt"
if [ -z "${ONLY_SMS:-}" ]; then
if [ -z "${MAX_ONLY:-}" ]; then
echo "== WeChat $WECHAT_MODE-mode text, constant ${RATE}/s for ${DURATION}s ($STORE)"
vegeta attack -format=json -targets="$WORK/wx.json" -rate="$RATE" -duration="${DURATION}s" | vegeta report | tee "$WORK/wx.txt"
fi
for w in $MAX_WORKERS; do
  echo "== WeChat $WECHAT_MODE-mode text, as fast as $w workers go, ${DURATION}s"
  if [ -n "$PROFILE" ]; then
    mkdir -p "$PROFILE"
    (sleep 2; curl -s "http://127.0.0.1:16060/debug/pprof/profile?seconds=$((DURATION - 4))" -o "$PROFILE/wechat-max-$w.pprof") &
    profiler=$!
  fi
  vegeta attack -format=json -targets="$WORK/wxmax-$w.json" -rate=0 -max-workers="$w" -duration="${DURATION}s" | vegeta report | tee "$WORK/wxmax-$w.txt"
  [ -z "$PROFILE" ] || wait "$profiler"
done
fi
if [ -z "${MAX_ONLY:-}" ]; then
echo "== Twilio SMS, constant ${RATE}/s for ${DURATION}s"
vegeta attack -format=json -targets="$WORK/sms.json" -rate="$RATE" -duration="${DURATION}s" | vegeta report | tee "$WORK/sms.txt"
fi

echo
echo "== summary ($(nproc) cores, $(date -u +%FT%TZ), $STORE, WeChat $WECHAT_MODE mode)"
awk '/^Latencies/ {print "warm-up (first '"$WARMUP"' s after start) at '"$RATE"'/s: p50="$(NF-4)" p99="$(NF-1)}' "$WORK/warm.txt" | tr -d ,
[ -f "$WORK/wx.txt" ] && awk '/^Latencies/ {print "wechat at '"$RATE"'/s: p50="$(NF-4)" p99="$(NF-1)}' "$WORK/wx.txt" | tr -d ,
for w in $MAX_WORKERS; do
  [ -f "$WORK/wxmax-$w.txt" ] && awk '/^Requests/ {r=$NF} /^Latencies/ {p=$(NF-1)} /^Success/ {s=$NF}
    END {print "wechat max ('"$w"' workers): "r" replies/s, p99 "p", success "s}' "$WORK/wxmax-$w.txt" | tr -d ,
done
[ -f "$WORK/sms.txt" ] && awk '/^Latencies/ {print "sms at '"$RATE"'/s: p50="$(NF-4)" p99="$(NF-1)}' "$WORK/sms.txt" | tr -d ,
echo "cases stored: $(curl -s "http://127.0.0.1:16060/metrics" | awk '/^intake_cases_created_total/ {s+=$2} END {print s}')"
curl -s "http://127.0.0.1:16060/metrics" | awk '/^intake_store_batch_size_sum/ {s=$2} /^intake_store_batch_size_count/ {n=$2}
  /^intake_store_commit_seconds_sum/ {t+=$2} END {if (n) printf "group commits: %d, mean %.1f cases and %.1f ms each\n", n, s/n, 1000*t/n}'
