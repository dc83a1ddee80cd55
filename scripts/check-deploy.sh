#!/usr/bin/env bash
# Checks the deployment files in deploy/:
#   - the Prometheus alerting rules load and their unit tests pass (promtool, from Debian's
#     prometheus package: installed with apt-get when missing and we may, else an error);
#   - the Grafana dashboard is valid JSON (which metrics it names is checked by the Go test
#     TestAdminListenerExportsTheOperationalMetrics in cmd/intake-gateway);
#   - the compose file is valid (docker compose config), when a Docker client with compose exists;
#   - the systemd unit is valid (systemd-analyze verify), when systemd-analyze exists.
# Tools that cannot exist here are reported as skipped; under CI=true a missing promtool fails.
set -euo pipefail
cd "$(dirname "$0")/.."

fail=0
step() { printf '== %s\n' "$*"; }

step "promtool: alerting rules"
if ! command -v promtool >/dev/null; then
	if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
		echo "promtool missing: installing Debian's prometheus package"
		DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends prometheus >/dev/null ||
			{ apt-get update >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends prometheus >/dev/null; }
	elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
		sudo -n apt-get install -y --no-install-recommends prometheus >/dev/null
	fi
fi
if command -v promtool >/dev/null; then
	promtool check rules deploy/prometheus/alerts.yaml || fail=1
	(cd deploy/prometheus && promtool test rules alerts_test.yaml) || fail=1
	# compose.yaml's Prometheus config names the rules at their path in the container.
	tmp_prom=$(mktemp -d)
	cp deploy/prometheus/alerts.yaml "$tmp_prom/"
	sed "s#/etc/prometheus/alerts.yaml#$tmp_prom/alerts.yaml#" deploy/prometheus/prometheus.yml >"$tmp_prom/prometheus.yml"
	promtool check config "$tmp_prom/prometheus.yml" || fail=1
	rm -rf "$tmp_prom"
else
	echo "promtool not available and cannot be installed here (apt-get install prometheus)" >&2
	fail=1
fi

step "grafana: dashboard JSON"
if command -v python3 >/dev/null; then
	python3 -m json.tool deploy/grafana/intake-gateway.json >/dev/null || fail=1
elif command -v jq >/dev/null; then
	jq empty deploy/grafana/intake-gateway.json || fail=1
else
	echo "skipped: neither python3 nor jq"
fi

step "docker compose config"
if command -v docker >/dev/null && docker compose version >/dev/null 2>&1; then
	POSTGRES_PASSWORD=check OPERATOR_KEY_SHA256=check docker compose -f deploy/compose.yaml config -q || fail=1
else
	echo "skipped: no docker compose client (the same validation runs in make test: TestComposeFileIsValidForCompose loads the file with compose-go, the loader docker compose uses)"
fi

step "systemd-analyze verify"
if command -v systemd-analyze >/dev/null; then
	# The unit names the binary's installed path; verify against a stand-in so the check does not
	# depend on an installed gateway.
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	sed "s#/usr/local/bin/intake-gateway#$(command -v true)#g" deploy/systemd/intake-gateway.service >"$tmp/intake-gateway.service"
	out=$(systemd-analyze verify "$tmp/intake-gateway.service" 2>&1) || { echo "$out"; fail=1; }
	# verify reports some problems only as warnings: treat lines about our unit as failures.
	if grep -q "intake-gateway.service:" <<<"$out"; then
		echo "$out"
		fail=1
	fi
else
	echo "skipped: no systemd-analyze"
fi

if [[ $fail -ne 0 ]]; then
	echo "check-deploy: FAILED" >&2
	exit 1
fi
echo "check-deploy: ok"
