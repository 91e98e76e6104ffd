# Everything a newcomer needs: `make demo` and `make test` (each does its own set-up).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# pytest-xdist workers for `make test`: one per core (the suite is CPU-bound)
PYTEST_WORKERS ?= auto

.PHONY: setup demo test check lint bench openapi contracts clean

$(STAMP): pyproject.toml bridge/_ccodec.pyx
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	$(BIN)/soapbridge demo

# Interop peers: PHP's SoapServer, gSOAP and the JAX-WS RI from apt, node-soap from npm (spyne is a
# Python dependency); the script is idempotent. openapi-compat fails on a breaking change to openapi/
# since the previous commit that openapi/BREAKING does not announce.
test: $(STAMP)
	bash .ci/install-peers
	$(BIN)/ruff check bridge tests
	$(BIN)/mypy bridge
	$(BIN)/python .ci/openapi-compat
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist worksteal

# The edit-test loop: lint, types and everything but the slow, interop and corpus tiers (about a minute).
check: $(STAMP)
	$(BIN)/ruff check bridge tests
	$(BIN)/mypy bridge
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist worksteal -q -m "not slow and not interop and not corpus"

lint: $(STAMP)
	$(BIN)/ruff check bridge tests
	$(BIN)/mypy bridge

bench: $(STAMP)
	$(BIN)/python -m bench

# Regenerate the committed specs in openapi/ (a test fails when they drift).
openapi: $(STAMP)
	for f in wsdl/*.wsdl; do $(BIN)/soapbridge openapi $$f -o openapi/$$(basename $$f .wsdl).json; done

# Re-record the exchanges in contracts/ (replayed by tests/test_recorded_contracts.py); review the diff.
contracts: $(STAMP)
	for f in wsdl/*.wsdl; do $(BIN)/soapbridge record $$f -o contracts; done

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache .soapbridge-cache tests/interop/node/node_modules
