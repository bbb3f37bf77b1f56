# x402 Solana sandbox. On a fresh machine `make up` and `make test` are all you type:
# every target bootstraps .venv when it is missing or older than pyproject.toml.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SANDBOX := $(BIN)/x402-sandbox

.PHONY: up down status logs pay scenarios loadtest loadtest-ui bench test fuzz interop \
        test-compose compose-up compose-down compose-loadtest lint format clean venv test-js \
        check-client test-check-client

venv: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "Installing the sandbox into $(VENV) (first run takes a minute)..."
	@$(BIN)/python -m pip install --quiet --upgrade pip
	@$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

up: $(STAMP)
	@$(SANDBOX) up $(ARGS)

down: $(STAMP)
	@$(SANDBOX) down $(ARGS)

status: $(STAMP)
	@$(SANDBOX) status $(ARGS)

logs: $(STAMP)
	@$(SANDBOX) logs $(ARGS)

pay: $(STAMP)
	@$(SANDBOX) pay $(or $(URL),http://127.0.0.1:4021/api/premium-content) $(ARGS)

scenarios: $(STAMP)
	@$(SANDBOX) scenarios $(ARGS)

# Any x402 client through the check-client cases, e.g. make check-client CMD="node pay.mjs {url}"
# ({url} {rpc} {keypair} {network} are filled in; X402_URL and friends are in its environment).
check-client: $(STAMP)
	@$(SANDBOX) check-client $(ARGS) -- $(CMD)

loadtest: $(STAMP)
	@$(SANDBOX) loadtest paid-flow --duration 15s --users 16 $(ARGS)

loadtest-ui: $(STAMP)
	@$(SANDBOX) loadtest $(or $(PROFILE),paid-flow) --ui $(ARGS)

bench: $(STAMP)
	@$(BIN)/python benchmarks/run.py $(ARGS)

test: $(STAMP)
	@$(BIN)/python -m pytest -q $(ARGS)

# The fuzzers (hypothesis, derandomized, about two minutes): never part of `make test`, since
# tests/fuzz/conftest.py collects them only when tests/fuzz is asked for.
fuzz: $(STAMP)
	@$(BIN)/python -m pytest -q tests/fuzz $(ARGS)

# check-client's own tests (a stack, every case, wrong clients; about a minute): never part of
# `make test`, collected only when tests/check_client is asked for (its conftest.py).
test-check-client: $(STAMP)
	@$(BIN)/python -m pytest -q tests/check_client $(ARGS)

interop: $(STAMP)
	@bash interop/run.sh

# The JavaScript fixture (js/) and the JS/TS examples (examples/) with node --test, vitest and jest;
# npm ci of the workspace (one package-lock.json at the root) when needed (js/npm-ci.sh).
test-js: $(STAMP)
	@bash js/run-tests.sh

test-compose: $(STAMP)
	@bash docker/test-compose.sh

compose-up:
	@bash docker/compose.sh up

compose-down:
	@bash docker/compose.sh down

compose-loadtest:
	@bash docker/compose.sh loadtest

lint: $(STAMP)
	@$(BIN)/ruff check .
	@$(BIN)/ruff format --check .

format: $(STAMP)
	@$(BIN)/ruff format .
	@$(BIN)/ruff check --fix .

clean:
	@-test -x $(SANDBOX) && $(SANDBOX) down --purge >/dev/null 2>&1 || true
	rm -rf $(VENV) .sandbox .pytest_cache .ruff_cache .hypothesis *.egg-info
