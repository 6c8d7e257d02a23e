# Temporis: the two commands are `make devnet` (bring the system up) and `make test` (run every
# test). Both bootstrap the pinned toolchain first; see README.md.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

TOOLS := $(CURDIR)/.tools/bin
FORGE := $(TOOLS)/forge
export PATH := $(TOOLS):$(PATH)

# Reuse a shared cargo target directory when one exists (CI on a machine that built before, or a
# developer's cache); otherwise cargo uses ./target. An explicit CARGO_TARGET_DIR always wins.
SHARED_TARGET ?= $(HOME)/.cache/temporis/target
ifeq ($(origin CARGO_TARGET_DIR),undefined)
  ifneq ($(wildcard $(SHARED_TARGET)),)
    export CARGO_TARGET_DIR := $(SHARED_TARGET)
  endif
endif

CARGO ?= cargo
DEVNET_ARGS ?=

.PHONY: help bootstrap devnet test test-contracts test-rust contracts bindings check-bindings lint fmt gas snapshot clean

help:
	@echo "make devnet    bring Temporis up on its embedded defaults (L1, contracts, DA, sequencer, follower)"
	@echo "make test      run every test: forge suite, bindings check, clippy, Rust and end-to-end tests"
	@echo "make bindings  regenerate contracts/bindings/artifacts after changing Solidity"
	@echo "make gas       measure the gas table (docs/gas.md) on a fresh anvil"
	@echo "make snapshot  rewrite contracts/.gas-snapshot"

bootstrap:
	@scripts/bootstrap.sh

# The devnet starts the sequencer and the follower as child processes (the binary next to it);
# the user tools (temporis-withdraw, temporis-aivm, temporis-da) are built alongside.
devnet: bootstrap
	$(CARGO) build --locked -p temporis-deploy -p temporis-sequencer -p temporis-pipeline -p temporis-aivm -p temporis-da-adapters --bins
	"$${CARGO_TARGET_DIR:-target}/debug/temporis-devnet" --anvil.path $(TOOLS)/anvil $(DEVNET_ARGS)

contracts: bootstrap
	cd contracts && $(FORGE) build

bindings: contracts
	node scripts/gen-bindings.mjs

check-bindings: contracts
	node scripts/gen-bindings.mjs --check

test-contracts: contracts
	cd contracts && $(FORGE) test

test-rust: bootstrap
	$(CARGO) build --locked --workspace --all-targets
	$(CARGO) test --locked --workspace

lint: bootstrap
	cd contracts && $(FORGE) fmt --check
	$(CARGO) fmt --all --check
	$(CARGO) clippy --locked --workspace --all-targets -- -D warnings

# Lint first (fails fast), then every suite; the last line adds up all runners' results.
test: check-bindings lint
	@log=$$(mktemp); trap 'rm -f $$log' EXIT; \
	(cd contracts && $(FORGE) test) 2>&1 | tee -a $$log; \
	$(CARGO) build --locked --workspace --all-targets; \
	$(CARGO) test --locked --workspace 2>&1 | tee -a $$log; \
	scripts/test-summary.sh $$log

gas: bootstrap
	$(CARGO) run --locked -p temporis-deploy --bin temporis-gas-table -- --anvil.path $(TOOLS)/anvil

snapshot: contracts
	cd contracts && $(FORGE) snapshot

fmt:
	$(CARGO) fmt --all

clean:
	rm -rf target contracts/out contracts/cache
