#!/usr/bin/env bash
# Short fuzzing pass over every fuzz target in the module: each target runs for FUZZTIME
# (default 30s). The corpora are the seeds in the tests and testdata/fuzz/ inside the
# repository; new failing inputs are written there by `go test -fuzz`, to be committed with the fix.
#   FUZZTIME=2m ./scripts/fuzz.sh            every target, two minutes each
#   ./scripts/fuzz.sh ./channels/wechat/...  only these packages
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/toolchain.sh
FUZZTIME="${FUZZTIME:-30s}"
pkgs=("$@")
[ ${#pkgs[@]} -gt 0 ] || pkgs=(./...)

failed=()
while read -r pkg; do
  dir=$(go list -f '{{.Dir}}' "$pkg")
  # Fuzz targets are top-level `func FuzzXxx(f *testing.F)` in the package's test files.
  targets=$(grep -hoE '^func (Fuzz[A-Za-z0-9_]+)\(f \*testing\.F\)' "$dir"/*_test.go 2>/dev/null | sed -E 's/^func (Fuzz[A-Za-z0-9_]+).*/\1/' | sort -u || true)
  for target in $targets; do
    echo "== $pkg $target ($FUZZTIME)"
    if ! go test -run '^$' -fuzz "^${target}\$" -fuzztime "$FUZZTIME" "$pkg"; then
      failed+=("$pkg $target")
    fi
  done
done < <(go list "${pkgs[@]}")

if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: failures in:"; printf '  %s\n' "${failed[@]}"; exit 1
fi
echo "fuzz: every target ran for $FUZZTIME without a failure"
