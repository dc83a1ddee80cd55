#!/usr/bin/env bash
# Runs govulncheck over the module. When the public vulnerability database (vuln.go.dev) cannot
# be reached — as on machines that only see the Go module proxy — it builds the same database
# from the golang.org/x/vulndb module (which the proxy serves) into a cache directory once, and
# points govulncheck at it. VULNDB_VERSION pins that snapshot; raise it to see newer reports.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/toolchain.sh

GOVULNCHECK_VERSION="${GOVULNCHECK_VERSION:-v1.9.0}"
VULNDB_VERSION="${VULNDB_VERSION:-v0.0.0-20261105234957-e22db6528018}"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/intake-gateway/vulndb-$VULNDB_VERSION"

db_flag=()
if curl -sf --max-time 5 -o /dev/null https://vuln.go.dev/index/db.json.gz; then
	echo "govulncheck: using vuln.go.dev"
else
	if [[ ! -f "$cache/index/db.json" ]]; then
		echo "govulncheck: vuln.go.dev unreachable; building the database from golang.org/x/vulndb@$VULNDB_VERSION (once, a few minutes)"
		src="$(GOFLAGS=-mod=mod go mod download -json "golang.org/x/vulndb@$VULNDB_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
		[[ -d "$src/data/osv" ]] || { echo "govulncheck: no data/osv in $src" >&2; exit 1; }
		tmp="$cache.tmp.$$"
		rm -rf "$tmp"
		(cd "$src" && GOFLAGS=-mod=mod go run ./cmd/indexdb -out "$tmp" -vulns "$src/data/osv")
		mv "$tmp" "$cache"
	fi
	echo "govulncheck: using the database of golang.org/x/vulndb@$VULNDB_VERSION ($cache)"
	db_flag=(-db "file://$cache")
fi

# The text report for people; the JSON one decides: any vulnerability the code calls fails the
# check unless .govulncheck-accepted lists it with a reason.
out="$(mktemp)"; trap 'rm -f "$out"' EXIT
go run "golang.org/x/vuln/cmd/govulncheck@$GOVULNCHECK_VERSION" "${db_flag[@]}" ./... || true
go run "golang.org/x/vuln/cmd/govulncheck@$GOVULNCHECK_VERSION" "${db_flag[@]}" -format json ./... > "$out"
python3 - "$out" .govulncheck-accepted <<'PY'
import json, sys
accepted = {l.split()[0] for l in open(sys.argv[2]) if l.strip() and not l.startswith("#")}
dec = json.JSONDecoder(); text = open(sys.argv[1]).read(); i = 0; called = {}
while i < len(text):
    while i < len(text) and text[i].isspace(): i += 1
    if i >= len(text): break
    obj, i = dec.raw_decode(text, i)
    f = obj.get("finding")
    if f and f.get("trace") and f["trace"][0].get("function"):
        called[f["osv"]] = f.get("fixed_version", "")
bad = sorted(set(called) - accepted)
for osv in bad:
    print(f"govulncheck: {osv} is called by the code (fixed in {called[osv] or 'no release yet'})")
print(f"govulncheck: {len(called)} called, {len(called) - len(bad)} accepted, {len(bad)} to fix")
sys.exit(1 if bad else 0)
PY
