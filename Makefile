# certdesk — see README.md. `make run` serves with an embedded PostgreSQL;
# `make test` installs what the tests need when it is missing, then tests.

GO      ?= go
BIN     := bin/certdesk
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X github.com/certdesk/certdesk/internal/app.Version=$(VERSION)
# apt-get needs root; use sudo when we are not root and it exists.
SUDO    := $(shell [ "$$(id -u)" = 0 ] || command -v sudo)

.PHONY: build run test vet fmt deps-postgres deps-poppler clean bench

build:
	$(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/certdesk

## run: build and serve on 127.0.0.1:8080 with the embedded PostgreSQL in ./data,
## seeding the demo (idempotent) and printing demo API tokens
run: deps-postgres build
	./$(BIN) serve --demo

## test: vet and run every test (real PostgreSQL, real River workers) with the race detector
test: deps-postgres deps-poppler
	@test -z "$$(gofmt -l cmd internal migrations docs web playbooks 2>/dev/null)" || { echo "gofmt needed:"; gofmt -l cmd internal migrations docs web playbooks; exit 1; }
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 30m ./...

## bench: measure against same-run baselines (raw PostgreSQL, River) and print a
## table; pass flags with ARGS, e.g. make bench ARGS="-duration 30s -json bench.json"
bench: deps-postgres
	$(GO) build -o bin/certdesk-bench ./cmd/certdesk-bench
	./bin/certdesk-bench $(ARGS)

vet:
	$(GO) vet ./...

fmt:
	gofmt -w cmd internal migrations docs web playbooks

## deps-postgres: install PostgreSQL's server binaries from Debian's packages if none are found
deps-postgres:
	@if [ -n "$$PG_BINDIR" ] || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1; then \
		exit 0; \
	fi; \
	echo "PostgreSQL binaries not found: installing Debian's postgresql package"; \
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null

## deps-poppler: install poppler-utils (pdftotext, pdftoppm: the PDF report tests read and render the reports) when missing
deps-poppler:
	@if command -v pdftotext >/dev/null 2>&1 && command -v pdftoppm >/dev/null 2>&1; then \
		exit 0; \
	fi; \
	echo "pdftotext/pdftoppm not found: installing Debian's poppler-utils package"; \
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq poppler-utils >/dev/null

clean:
	rm -rf bin
