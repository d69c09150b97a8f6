# finrecon — the two commands a new user needs are `make demo` and `make test`.
GO      ?= go
BIN     := bin/finrecon
VERSION ?= 0.1.0-dev
LDFLAGS := -X github.com/finrecon/finrecon/internal/version.Version=$(VERSION)
DEMO    := fixtures/demo/finrecon.yaml
AS_OF   ?= 2026-11-30

.PHONY: build demo test lint bench profile golden fuzz clean

build:
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/finrecon

# demo runs the whole job on the shipped fixtures. finrecon exits 1 when it
# finds high-severity breaks, which the demo plants on purpose.
demo: build
	@rm -rf out/demo
	@$(BIN) run --config $(DEMO) --as-of $(AS_OF); code=$$?; \
	if [ $$code -gt 1 ]; then exit $$code; fi; \
	run=out/demo/runs/$$(cat out/demo/runs/LATEST); \
	echo; echo "Demo done (exit code $$code: 1 means breaks were found, as planted)."; \
	echo "  break list   $$run/breaks.csv"; \
	echo "  Excel report $$run/report.xlsx"; \
	echo "  adjustments  $$run/adjustments/adjustments.csv (Odoo import) and adjustments.jsonl"; \
	echo "  what to expect: fixtures/demo/README.md"

test:
	$(GO) vet ./...
	$(GO) test -race -count=1 ./...

lint:
	@out=$$(gofmt -l cmd internal fixtures); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

# bench measures the CLI's stages at scale on generated data (issue 6; see
# BENCHMARKS.md): extract, match, report, adjust, the invoices recon against
# a hand-written SQL baseline, a match under a memory limit, and the demo.
# Data sets are cached under out/bench/<N>/. Knobs:
#   make bench BENCH_SIZES="1000000"      sizes in invoices (default 1M and 10M)
#   make bench BENCH_QUICK=1              smoke run: 100k invoices, one run each
#   make bench BENCH_RUNS=5               runs per stage (default 3 up to 1M, 1 above)
#   make bench BENCH_FLAGS="-stages match,invoices -threads 2"
# The Go benchmarks of the hot paths: go test -run '^$$' -bench . -benchmem ./...
# The binaries are built into out/bench/bin, so a `make build` elsewhere
# cannot swap the finrecon being measured halfway through.
BENCH_SIZES ?=
BENCH_RUNS  ?=
BENCH_QUICK ?=
BENCH_FLAGS ?=
BENCH_BIN   := out/bench/bin
bench:
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BENCH_BIN)/finrecon ./cmd/finrecon
	$(GO) build -o $(BENCH_BIN)/finrecon-bench ./cmd/finrecon-bench
	$(BENCH_BIN)/finrecon-bench -finrecon $(BENCH_BIN)/finrecon $(if $(BENCH_SIZES),-sizes '$(BENCH_SIZES)') $(if $(BENCH_RUNS),-runs $(BENCH_RUNS)) $(if $(BENCH_QUICK),-quick) $(BENCH_FLAGS)

# profile times every SQL statement of a match of the invoices recon on the
# data set make bench generated (PROFILE_SIZE invoices) and writes a Go CPU
# profile of the same match (mostly runtime.cgocall: DuckDB's own threads
# are not sampled; the statement times are the profile that matters).
PROFILE_SIZE  ?= 1000000
PROFILE_RULES ?= rules/invoices.yaml
profile:
	@test -f out/bench/$(PROFILE_SIZE)/snapshots/LATEST || { echo "no snapshot in out/bench/$(PROFILE_SIZE): run make bench BENCH_SIZES=$(PROFILE_SIZE) first"; exit 2; }
	FINRECON_BENCH_SNAPSHOT=$(CURDIR)/out/bench/$(PROFILE_SIZE)/snapshots FINRECON_BENCH_RULES=$(CURDIR)/$(PROFILE_RULES) \
	FINRECON_BENCH_PROFILE_OUT=$(CURDIR)/out/bench/statements-$(PROFILE_SIZE).txt \
		$(GO) test ./internal/match -run '^TestStatementTimes$$' -bench '^BenchmarkMatch1M$$' -benchtime 1x -count 1 -v \
		-o out/bench/match.test -cpuprofile out/bench/cpu-$(PROFILE_SIZE).pprof -timeout 2h
	$(GO) tool pprof -top -nodecount 20 out/bench/match.test out/bench/cpu-$(PROFILE_SIZE).pprof
	@echo "statement times: out/bench/statements-$(PROFILE_SIZE).txt"

golden:
	$(GO) test ./... -update

fuzz:
	$(GO) test ./internal/strictyaml -run ^$$ -fuzz FuzzDecode -fuzztime 30s
	$(GO) test ./internal/config -run ^$$ -fuzz FuzzParse -fuzztime 30s
	$(GO) test ./internal/rules -run ^$$ -fuzz FuzzParse -fuzztime 30s

clean:
	rm -rf bin out
