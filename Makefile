# certdesk — see README.md. `make run` serves with an embedded PostgreSQL;
# `make test` installs what the tests need when it is missing, then tests.

GO      ?= go
BIN     := bin/certdesk
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X github.com/certdesk/certdesk/internal/app.Version=$(VERSION)
# apt-get needs root; use sudo when we are not root and it exists.
SUDO    := $(shell [ "$$(id -u)" = 0 ] || command -v sudo)
# axe-core checks the web UI's accessibility in the browser tests; it is
# fetched with npm into an ignored cache folder, never committed or shipped.
AXE_VERSION := 4.14.1
AXE_DIR     := .cache/axe-core-$(AXE_VERSION)

# Redocly CLI lints docs/openapi.yaml. It comes from the npm registry at this
# pinned version into an ignored folder of its own (a new version, a new
# folder); no telemetry, no update check.
REDOCLY_VERSION := 2.77.0
REDOCLY_DIR     := .cache/redocly-$(REDOCLY_VERSION)
REDOCLY         := REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true $(REDOCLY_DIR)/node_modules/.bin/redocly

.PHONY: build run test vet fmt deps-postgres deps-chromium deps-axe deps-redocly lint-openapi deps-poppler clean bench fuzz reliability reliability-quick

build:
	$(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/certdesk

## run: build and serve on 127.0.0.1:8080 with the embedded PostgreSQL in ./data,
## seeding the demo (idempotent); prints the address to open, the demo password and API tokens
run: deps-postgres build
	./$(BIN) serve --demo

## test: lint the OpenAPI document and the deployment descriptors, vet and run every test (real PostgreSQL, real
## River workers, the web UI in Chromium with axe-core) with the race detector
test: deps-postgres deps-chromium deps-axe deps-poppler lint-openapi lint-deploy
	@test -z "$$(gofmt -l cmd internal migrations docs web playbooks 2>/dev/null)" || { echo "gofmt needed:"; gofmt -l cmd internal migrations docs web playbooks; exit 1; }
	$(GO) vet ./...
	CERTDESK_REQUIRE_BROWSER=1 $(GO) test -race -count=1 -timeout 30m ./...

## reliability: the reliability battery (docs/reliability.md), long mode:
## every TestReliability* test behind the build tag "reliability" (processes
## killed and restarted under load, outages, storms...); each prints its figure
RELIABILITYFLAGS ?= -v
RELIABILITY_TEST = $(GO) test -tags reliability -run '^TestReliability' -count=1 -timeout 60m $(RELIABILITYFLAGS) ./...
## and then every fuzzer for RELIABILITY_FUZZTIME each (item 8: no panic, bounded
## time and memory; a failing input lands in the package's testdata/fuzz/)
RELIABILITY_FUZZTIME ?= 20s
reliability: deps-postgres
	$(GO) vet -tags reliability ./...
	CERTDESK_RELIABILITY=long $(RELIABILITY_TEST)
	$(MAKE) fuzz FUZZTIME=$(RELIABILITY_FUZZTIME)

## reliability-quick: the battery's quick mode (shorter loads; under 10 minutes
## on two cores), run by .ci/run after make test
reliability-quick: deps-postgres
	$(GO) vet -tags reliability ./...
	CERTDESK_RELIABILITY=quick $(RELIABILITY_TEST)

## bench: measure against same-run baselines (raw PostgreSQL, River) and print a
## table; pass flags with ARGS, e.g. make bench ARGS="-duration 30s -json bench.json"
bench: deps-postgres
	$(GO) build -o bin/certdesk-bench ./cmd/certdesk-bench
	./bin/certdesk-bench $(ARGS)

## fuzz: run every fuzzer (every func FuzzX in internal/) for FUZZTIME each,
## one after the other; a failing input is written to the package's
## testdata/fuzz/FuzzX/ (commit it with the fix). E.g. make fuzz FUZZTIME=5m
FUZZTIME  ?= 30s
FUZZFLAGS ?=
fuzz: deps-postgres
	@set -e; for file in $$(grep -rl --include='*_test.go' '^func Fuzz' internal | sort); do \
		pkg=./$$(dirname $$file); \
		for name in $$(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(f \*testing\.F).*/\1/p' $$file); do \
			echo "== $$name in $$pkg for $(FUZZTIME)"; \
			$(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) $(FUZZFLAGS) $$pkg; \
		done; \
	done

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

## deps-chromium: install Debian's chromium for the browser tests if no Chromium is found
deps-chromium:
	@if [ -n "$$CHROME_PATH" ] || command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then \
		exit 0; \
	fi; \
	echo "Chromium not found: installing Debian's chromium package (browser tests)"; \
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null

## lint-openapi: docs/openapi.yaml must pass Redocly's recommended rules with no
## error (warnings are printed and allowed)
lint-openapi: deps-redocly
	$(REDOCLY) lint docs/openapi.yaml --extends=recommended --format=stylish

## deps-redocly: install the pinned Redocly CLI from the npm registry if missing
## (and Debian's nodejs and npm when npm itself is missing; it needs Node.js 20.19 or later)
deps-redocly:
	@if [ -x $(REDOCLY_DIR)/node_modules/.bin/redocly ]; then exit 0; fi; \
	if ! command -v npm >/dev/null 2>&1; then \
		echo "npm not found: installing Debian's nodejs and npm packages"; \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null || exit 1; \
	fi; \
	echo "installing @redocly/cli@$(REDOCLY_VERSION) into $(REDOCLY_DIR)"; \
	mkdir -p $(REDOCLY_DIR) && \
	npm install --prefix $(REDOCLY_DIR) --no-audit --no-fund --loglevel=error @redocly/cli@$(REDOCLY_VERSION)

# The deployment descriptors: Debian's docker-compose (1.29) checks
# deploy/compose.yaml; helm, built from the Go module proxy at this pinned
# version into an ignored folder of its own (a new version, a new folder),
# lints and renders deploy/helm/certdesk. internal/deploy's tests read what
# they produce.
HELM_VERSION := 4.3.2
HELM_DIR     := .cache/helm-$(HELM_VERSION)
HELM         := $(HELM_DIR)/helm
.PHONY: lint-deploy deps-compose deps-helm

## lint-deploy: deploy/compose.yaml must pass docker-compose config, and the
## chart deploy/helm/certdesk helm lint --strict and helm template
## (with the placeholder values of deploy/helm/lint-values.yaml)
lint-deploy: deps-compose deps-helm
	cd deploy && CERTDESK_ENV_FILE=certdesk.env.example POSTGRES_ENV_FILE=postgres.env.example docker-compose -f compose.yaml config -q
	$(HELM) lint --strict --quiet deploy/helm/certdesk --values deploy/helm/lint-values.yaml
	$(HELM) template certdesk deploy/helm/certdesk --values deploy/helm/lint-values.yaml >/dev/null

## deps-compose: install Debian's docker-compose package when no docker-compose is found
deps-compose:
	@if command -v docker-compose >/dev/null 2>&1; then exit 0; fi; \
	echo "docker-compose not found: installing Debian's docker-compose package (it checks deploy/compose.yaml)"; \
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-compose >/dev/null

## deps-helm: build the pinned helm from the Go module proxy into $(HELM_DIR) if missing
deps-helm:
	@if [ -x $(HELM) ]; then exit 0; fi; \
	echo "installing helm v$(HELM_VERSION) into $(HELM_DIR)"; \
	GOBIN=$(CURDIR)/$(HELM_DIR) $(GO) install helm.sh/helm/v4/cmd/helm@v$(HELM_VERSION)

## deps-axe: fetch axe-core $(AXE_VERSION) from the npm registry into $(AXE_DIR) if missing
deps-axe:
	@if [ -f "$(AXE_DIR)/node_modules/axe-core/axe.min.js" ]; then exit 0; fi; \
	if ! command -v npm >/dev/null 2>&1; then \
		echo "npm not found: installing Debian's npm package (to fetch axe-core)"; \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null || exit 1; \
	fi; \
	echo "fetching axe-core $(AXE_VERSION) into $(AXE_DIR)"; \
	mkdir -p "$(AXE_DIR)" && \
	npm install --silent --no-save --no-package-lock --no-audit --no-fund --prefix "$(AXE_DIR)" "axe-core@$(AXE_VERSION)"

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
