# nsscript — build, test and benchmark.
#
#   sudo make lab     build nsscript and bring up scripts/bridge.star
#   sudo make test    everything: vet, gofmt, unit, golden, kernel and end-to-end tests
#   sudo make bench   build-time and teardown benchmarks against the shell and a netlink floor
#
# Kernel tests run as root inside a private network and mount namespace
# (package sandbox); as an ordinary user they skip and say so.

GO      ?= go
BIN     := bin/nsscript
LAB     ?= scripts/bridge.star
# Commands the tests and labs use, as command:debian-package.
NEEDS   := ip:iproute2 iptables:iptables ping:iputils-ping unshare:util-linux

.PHONY: all build lab test deps check bench clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/nsscript

lab: deps build
	./$(BIN) run $(LAB)

# deps installs with apt-get what the tests need and this machine lacks.
deps:
	@missing=""; \
	for need in $(NEEDS); do \
		command -v $${need%%:*} >/dev/null 2>&1 || missing="$$missing $${need#*:}"; \
	done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" != 0 ]; then \
		echo "make deps: missing$$missing (run as root to install them; the kernel tests skip without root anyway)"; exit 0; \
	fi; \
	echo "make deps: installing$$missing"; \
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null

check:
	$(GO) vet ./...
	@unformatted=$$(gofmt -l $$(find . -name '*.go' -not -path './.git/*')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi

test: deps check
	$(GO) test -count=1 ./...

# bench prints three measurements, each against a baseline taken in the
# same run: building and tearing down the N-host bridge lab (nsscript, the
# one-ip-per-step shell, and a direct-netlink floor program; bench/README.md),
# pingall over 100 namespaces beside a loop over the ping binary, and the
# evaluation of a 10,000-namespace script.
bench: deps build
	$(GO) run ./bench -nsscript $(BIN)
	NSSCRIPT_PINGALL100=1 $(GO) test -count=1 -run TestPingallLab100 -v ./cmd/nsscript | grep -E 'pingall|ping binary|built in|removed in'
	@./$(BIN) run --dry-run --var n=10000 bench/bridge_lab.star >/dev/null
	@start=$$(date +%s%N); ./$(BIN) run --dry-run --var n=10000 bench/bridge_lab.star >/dev/null; \
	end=$$(date +%s%N); echo "evaluating a 10,000-namespace script (--dry-run): $$(( (end - start) / 1000000 )) ms"

clean:
	rm -rf bin
