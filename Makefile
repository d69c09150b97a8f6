# finrecon — the two commands a new user needs are `make demo` and `make test`.
GO      ?= go
BIN     := bin/finrecon
VERSION ?= 0.1.0-dev
LDFLAGS := -X github.com/finrecon/finrecon/internal/version.Version=$(VERSION)
DEMO    := fixtures/demo/finrecon.yaml
AS_OF   ?= 2026-11-30

.PHONY: build demo test lint bench golden fuzz clean

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

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

golden:
	$(GO) test ./... -update

fuzz:
	$(GO) test ./internal/strictyaml -run ^$$ -fuzz FuzzDecode -fuzztime 30s
	$(GO) test ./internal/config -run ^$$ -fuzz FuzzParse -fuzztime 30s
	$(GO) test ./internal/rules -run ^$$ -fuzz FuzzParse -fuzztime 30s

clean:
	rm -rf bin out
