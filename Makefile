# zedge — make run starts the broker with the embedded defaults, make test runs every test.
GO        ?= go
BIN       := bin/zedge
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -X github.com/zedge-io/zedge/cmd/internal/app.Version=$(VERSION)
# Packages with concurrency run under the race detector; everything else runs without it.
RACE_PKGS := ./store/... ./broker/... ./signing/... ./bridge/... ./cmd/internal/... ./sensors/... ./firmware-sim/... \
             ./cmd/zedge-sim/...
# Packages whose micro-benchmarks make bench runs (only those that exist yet).
BENCH_PKGS = $(foreach d,store broker signing bridge,$(if $(wildcard $(d)),./$(d)/...))
# Seconds each fuzzer runs in make test (a smoke run) and in make fuzz.
FUZZTIME       ?= 5s
FUZZTIME_SMOKE ?= 3s
# Extra flags for the load harness, e.g. BENCH_ARGS='-duration 30s'.
BENCH_ARGS ?=

.PHONY: all build run demo test deps lint test-race test-rest fuzz fuzz-smoke bench clean

all: build

build:
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/zedge

## run: build and start zedge with the embedded defaults (HTTP on 127.0.0.1:8888, Badger in ./data).
run: build
	./$(BIN) serve

## demo: zedge (auth jwt with a demo secret, in-memory store, free ports) and zedge-sim with the small campus and
## its web app on DEMO_APP_ADDR; Ctrl-C stops the sim (it drains and prints its report), then zedge.
DEMO_APP_ADDR ?= 127.0.0.1:8090
DEMO_JWT_SECRET ?= zedge-demo-jwt-secret-for-make-demo-only
DEMO_SIGNING_KEY ?= zedge-demo-url-signing-key-for-make-demo
demo: build
	$(GO) build -o bin/zedge-sim ./cmd/zedge-sim
	@echo "web app: http://$(DEMO_APP_ADDR)/   (Ctrl-C stops the campus and zedge)"
	ZEDGE_AUTH=jwt ZEDGE_JWT_SECRET='$(DEMO_JWT_SECRET)' ZEDGE_SIGNING_KEY='$(DEMO_SIGNING_KEY)' ZEDGE_STORE=memory \
	  bash scripts/with-zedge.sh bin/demo \
	  ./bin/zedge-sim -ready bin/demo/ready.json -jwt-secret '$(DEMO_JWT_SECRET)' -signing-key '$(DEMO_SIGNING_KEY)' \
	  -scenario configs/campus-small.yaml -duration 0 -app-addr $(DEMO_APP_ADDR)

## test: install the Debian packages the tests need, then lint, a short run of every fuzzer, the race tests and
## all other tests (last, so that go test's closing lines are the tests' own).
test: deps lint fuzz-smoke test-race test-rest

deps:
	bash scripts/deps.sh

lint:
	@out=$$(gofmt -l $$(find . -name '*.go' -not -path './.git/*' -not -path '*/testdata/*')); \
	if [ -n "$$out" ]; then echo "gofmt: these files need formatting:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

test-race:
	$(GO) test -race -count=1 $(RACE_PKGS)

# Every package not covered by test-race, including the end-to-end tests in cmd/zedge.
test-rest:
	$(GO) test -count=1 $$($(GO) list ./... | grep -vxF "$$($(GO) list $(RACE_PKGS))")

fuzz:
	FUZZTIME=$(FUZZTIME) GO=$(GO) bash scripts/fuzz.sh

fuzz-smoke:
	FUZZTIME=$(FUZZTIME_SMOKE) GO=$(GO) bash scripts/fuzz.sh

## bench: micro-benchmarks of the store/broker/signing packages, then the load harness against bin/zedge on
## Badger, then on private Redis deployments (single, 3-master cluster, two zedge nodes on the cluster).
## BENCH_SHORT=1 makes both quick.
bench: build
	$(GO) test -run '^$$' -bench . -benchmem $(if $(BENCH_SHORT),-benchtime=100ms) $(BENCH_PKGS)
	BENCH_SHORT=$(BENCH_SHORT) $(GO) run ./cmd/zedge-bench -zedge $(BIN) $(BENCH_ARGS)
	BENCH_SHORT=$(BENCH_SHORT) $(GO) run ./cmd/zedge-bench -zedge $(BIN) -store redis $(BENCH_ARGS)
	@# Then the campus fleet as load: 1000 simulated devices (configs/load-1000.yaml; zedge-sim exits 3 on a loss
	@# or an unacknowledged command) against a fresh bin/zedge (auth jwt, Badger).
	$(GO) build -o bin/zedge-sim ./cmd/zedge-sim
	@d=$$(mktemp -d); trap 'rm -rf $$d' EXIT; \
	ZEDGE_AUTH=jwt ZEDGE_JWT_SECRET='$(DEMO_JWT_SECRET)' ZEDGE_SIGNING_KEY='$(DEMO_SIGNING_KEY)' \
	  bash scripts/with-zedge.sh $$d \
	  ./bin/zedge-sim -ready $$d/ready.json -jwt-secret '$(DEMO_JWT_SECRET)' -signing-key '$(DEMO_SIGNING_KEY)' \
	  -scenario configs/load-1000.yaml -duration $(if $(BENCH_SHORT),10s,30s) -app-addr '' -progress=false

clean:
	rm -rf bin
