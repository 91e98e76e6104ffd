# Everything a newcomer needs: `make demo` and `make test` (each does its own set-up).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup demo test lint bench openapi clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	$(BIN)/soapbridge demo

# Interop peers: PHP's SoapServer and gSOAP from apt, node-soap from npm (spyne is a Python test
# dependency); the script is idempotent.
test: $(STAMP)
	bash .ci/install-peers
	$(BIN)/ruff check bridge tests
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check bridge tests
	$(BIN)/mypy bridge

bench: $(STAMP)
	$(BIN)/python -m bench

# Regenerate the committed specs in openapi/ (a test fails when they drift).
openapi: $(STAMP)
	for f in wsdl/*.wsdl; do $(BIN)/soapbridge openapi $$f -o openapi/$$(basename $$f .wsdl).json; done

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache .soapbridge-cache tests/interop/node/node_modules
