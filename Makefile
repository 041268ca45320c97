# Music Admin. `make run` serves on :8080 with SQLite; `make test` runs the
# whole suite (MySQL and Chromium tests run when reachable, and are required
# under CI=true; the accessibility test also needs axe-core: .ci/axe.sh fetch).
GO      ?= go
BIN     := bin/app
VERSION ?= 0.1.0
LDFLAGS := -s -w -X musicadmin/internal/cli.Version=$(VERSION)

export CGO_ENABLED := 1

.PHONY: build run test lint faults bench bench-go oidc-provider clean

build:
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/app

run: build
	./$(BIN) create-db
	./$(BIN) run --init-admin

# The tests' build, tuned for a cold cache, where compiling is most of the
# time of make test: SQLite's C code at -O1 without debug info (the tests
# run on small data; half the compile time of the default -O2 -g, which
# make build keeps), and test binaries linked without DWARF (-w: half the
# link time; stack traces stay). lint vets with -race and the same C flags,
# and the cli tests build the app binary with -race too, so every package is
# compiled once, the way the tests need it.
TEST_CGO_CFLAGS ?= -O1 -g0

lint:
	@fmt_out=$$(gofmt -l cmd internal web migrations bench 2>/dev/null); \
	if [ -n "$$fmt_out" ]; then echo "gofmt would change:"; echo "$$fmt_out"; exit 1; fi
	CGO_CFLAGS="$(TEST_CGO_CFLAGS)" $(GO) vet -race ./...

test: lint
	CGO_CFLAGS="$(TEST_CGO_CFLAGS)" $(GO) test -race -count=1 -ldflags=-w -timeout 20m ./...

# faults runs the fault suite (internal/faults) whole, and the
# multi-instance suite (internal/multiinstance): the real binary
# under SIGKILL, a database stopped and started, a full disk, slow and many
# clients, malformed requests, on every backend with a server here. make
# test runs its fast part; the rest needs root (a tmpfs, servers of its own)
# and skips loudly without it, except under CI=true.
# -v shows each test's figures (grep FIGURES).
faults:
	APP_FAULTS=all CGO_CFLAGS="$(TEST_CGO_CFLAGS)" $(GO) test -race -count=1 -ldflags=-w -timeout 15m -v ./internal/faults/ ./internal/multiinstance/

# bench seeds the same catalogue of each size (N songs, N/10 albums: 1M
# songs and 100k albums at the top) into a fresh database on each
# backend (SQLite, and MySQL, PostgreSQL and MongoDB where a server answers:
# skipped otherwise, required under CI=true; MongoDB on FerretDB at 10k
# only, as FerretDB sorts in memory), serves each with the app, SQLite's also
# with the floor (bench/floor: net/http + database/sql + the same template),
# and measures and compares the song list pages, the song add and edit
# forms and the album lookup (the floor: list pages only); the table also goes to
# bench/results/latest.md. Last, at the largest size, a soak of the SQLite
# app: 256 connections on the song list and 4 writers through the API for
# BENCH_SOAK (0 skips), with the errors by kind and the app's RSS over time;
# and at the first size the write cost of sqlite_synchronous FULL against
# NORMAL. Example: make bench BENCH_SIZES=10000,100000
# BENCH_BACKENDS=sqlite,postgres BENCH_SOAK=0
BENCH_SIZES       ?= 10000,100000,1000000
BENCH_DURATION    ?= 5s
BENCH_CONCURRENCY ?= 1,8
BENCH_BACKENDS    ?= sqlite,mysql,postgres,mongodb
BENCH_SOAK        ?= 60s

bench:
	$(GO) run ./bench/run --sizes $(BENCH_SIZES) --duration $(BENCH_DURATION) --concurrency $(BENCH_CONCURRENCY) \
		--backends $(BENCH_BACKENDS) --soak $(BENCH_SOAK)

# bench-go runs the Go micro-benchmarks (allocations reported).
bench-go:
	$(GO) test -run '^$$' -bench . -benchmem ./internal/...

# oidc-provider runs a local OpenID provider for trying single sign-on
# (cmd/oidc-test-provider, see docs/testing.md): it prints the auth.oidc
# configuration to paste and two users. OIDC_FLAGS, e.g. -app
# http://localhost:8081, passes flags through.
oidc-provider:
	$(GO) run ./cmd/oidc-test-provider $(OIDC_FLAGS)

clean:
	rm -rf bin test-artifacts
