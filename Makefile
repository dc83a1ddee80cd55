# intake-gateway — the two commands that must always work on a fresh machine:
#   make run    build and serve with configs/gateway.example.yaml on the embedded SQLite store (./data)
#   make test   every test (PostgreSQL tests use TEST_DATABASE_URL, default the local server)

GO      ?= go
# Build with the Go release go.mod's `toolchain` line names (fetched from the module proxy once):
# the machine's own Go may lack security fixes (make check runs govulncheck). GOTOOLCHAIN_OVERRIDE=local
# keeps the machine's own.
export GOTOOLCHAIN := $(or $(GOTOOLCHAIN_OVERRIDE),$(shell sed -n 's/^toolchain //p' go.mod))
BIN     := bin/intake-gateway
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)

.PHONY: all build run test test-short bench bench-short chaos chaos-short fuzz generate fmt vet check check-deploy clean

all: build

build:
	@test -x $(BIN) || echo "compiling intake-gateway (the first build downloads modules and compiles for a few minutes)..."
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/intake-gateway

# The example config forwards cases to 127.0.0.1:9090: a fake case system is started there (it
# checks each delivery's signature and prints one line per delivery) and stopped with the gateway.
run: build
	@$(GO) build -o bin/fakecasesystem ./scripts/fakecasesystem
	@./bin/fakecasesystem -listen 127.0.0.1:9090 -secret "$${CASE_SYSTEM_SECRET:-dev-only-secret}" & \
	  fake=$$!; trap 'kill $$fake 2>/dev/null' EXIT INT TERM; \
	  ./$(BIN) serve --config configs/gateway.example.yaml

test:
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 20m ./...
	# Whole-corpus training is left out of race builds (too slow there); run it without.
	$(GO) test -count=1 -timeout 20m -run 'TestEmbeddedModelIsUpToDate|TestCrossValidation' ./normalize/evaluate/

test-short:
	$(GO) test -count=1 ./...

# One load report (scripts/benchreport): REST, WeChat safe mode and Twilio SMS at a constant rate
# and at their maximum on both stores, each on a new store, beside a bare echo + validator + pgx
# handler and pgbench's single-row INSERT on the same PostgreSQL; prints a Markdown table with the
# ratios and writes it to bench-results/bench-report.md (about 10 minutes). Needs wrk, vegeta and
# pgbench (installed when missing). BENCH_FLAGS passes options, e.g. BENCH_FLAGS="-stores sqlite -rate 500".
bench: build
	$(GO) run ./scripts/benchreport -gateway $(BIN) $(BENCH_FLAGS)

# The same with a few seconds per measurement, for CI (BENCH_SHORT=1 make bench does the same): it
# fails on breakage only (a failing tool or server, a 4xx, a non-2xx at the constant rate), never on speed.
bench-short: build
	$(GO) run ./scripts/benchreport -short -gateway $(BIN) $(BENCH_FLAGS)

# Fault and abuse suites (scripts/chaos): kill -9 under load, PostgreSQL stopped, the case system
# failing and hanging, a restart with deliveries in flight, a flooding sender, 10,000 bad
# signatures. Prints per fault acknowledged/stored/delivered/lost and fails when anything
# acknowledged is lost. Runs its own PostgreSQL cluster on port 55432 (CHAOS_PG_PORT), never the
# one the tests use; needs PostgreSQL's server binaries (initdb, postgres). chaos takes about 10
# minutes, chaos-short (CI) about 3.
CHAOS_PG_PORT ?= 55432

chaos:
	$(GO) run ./scripts/chaos -pg-port $(CHAOS_PG_PORT)

chaos-short:
	CHAOS_SHORT=1 $(GO) run ./scripts/chaos -pg-port $(CHAOS_PG_PORT)

# Short fuzzing pass over every parser (FUZZTIME=30s per target by default).
fuzz:
	./scripts/fuzz.sh

# API code from api/openapi.yaml, and the classifier's model (configs/classifier.model) from the
# corpus in normalize/learn/corpus with the rule files in configs/ (about a minute).
generate:
	cd api && $(GO) generate ./...
	$(GO) generate ./configs

fmt:
	gofmt -w $$(git ls-files '*.go')

vet:
	$(GO) vet ./...

STATICCHECK_VERSION ?= v0.8.2

# gofmt, go vet, staticcheck (built with the pinned Go on first use), go.mod tidy, govulncheck against the
# vulnerability database (scripts/govulncheck.sh: built from the Go module proxy when vuln.go.dev
# is unreachable; called vulnerabilities fail unless .govulncheck-accepted gives a reason), and
# the deployment files (check-deploy).
check: vet check-deploy
	$(GO) mod tidy -diff
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1)
	GOFLAGS= $(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) ./...
	./scripts/govulncheck.sh

# Alerting rules and their unit tests (promtool, installed with apt-get when missing), the
# dashboard, the compose file and the systemd unit, where the tools exist.
check-deploy:
	./scripts/check-deploy.sh

clean:
	rm -rf bin
