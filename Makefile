# Everything a newcomer needs: `make demo` and `make test` (each does its own set-up).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_STAMP := $(VENV)/.installed-demo
# NO_MKDOCS_2_WARNING quiets the banner Material for MkDocs prints on every build
MKDOCS := NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs
# pytest-xdist workers for `make test`: one per core (the suite is CPU-bound)
PYTEST_WORKERS ?= auto

.PHONY: setup demo test check lint docs docs-serve bench soak openapi contracts clean

$(STAMP): pyproject.toml bridge/_ccodec.pyx hatch_build.py
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

setup: $(STAMP)

# The demo needs only the runtime dependencies (no test tools); a full set-up serves it as well.
$(DEMO_STAMP): pyproject.toml bridge/_ccodec.pyx hatch_build.py
	@if [ -f $(STAMP) ] && [ $(STAMP) -nt pyproject.toml ] && [ $(STAMP) -nt bridge/_ccodec.pyx ] && [ $(STAMP) -nt hatch_build.py ]; then \
		touch $@; \
	else \
		$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
			{ echo "make demo: soapbridge needs Python 3.11 or newer; try: make demo PYTHON=python3.12"; exit 1; }; \
		echo "make demo: creating the virtual environment $(VENV) with $$($(PYTHON) --version)"; \
		$(PYTHON) -m venv $(VENV) && \
		echo "make demo: installing soapbridge and its runtime dependencies into $(VENV) (about a minute; the C codec is compiled when a C compiler is present)" && \
		$(BIN)/pip install --quiet --disable-pip-version-check -e . && \
		touch $@ && echo "make demo: installed; activate it with '. $(VENV)/bin/activate' to type soapbridge yourself"; \
	fi

demo: $(DEMO_STAMP)
	@echo "make demo: starting the mock SOAP service and the bridge (Ctrl-C stops both)"
	$(BIN)/soapbridge demo

# Interop peers: PHP's SoapServer, gSOAP and the JAX-WS RI from apt, node-soap from npm (spyne is a
# Python dependency); the script is idempotent. openapi-compat fails on a breaking change to openapi/
# since the previous commit that openapi/BREAKING does not announce.
test: $(STAMP)
	bash .ci/install-peers
	$(BIN)/ruff check bridge tests
	$(BIN)/mypy bridge
	$(BIN)/python .ci/openapi-compat
	$(MKDOCS) build --strict
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist worksteal --durations=25

# The edit-test loop: lint, types and everything but the slow, interop and corpus tiers (about a minute).
check: $(STAMP)
	$(BIN)/ruff check bridge tests
	$(BIN)/mypy bridge
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist worksteal -q -m "not slow and not interop and not corpus"

# The reference site (mkdocs.yml, docs/) into site/, git-ignored. --strict: a broken link, anchor or
# nav entry fails. Offline: no plugin fetches anything.
docs: $(STAMP)
	$(MKDOCS) build --strict

docs-serve: $(STAMP)
	$(MKDOCS) serve --strict --dev-addr 127.0.0.1:8000

lint: $(STAMP)
	$(BIN)/ruff check bridge tests
	$(BIN)/mypy bridge

# The bench extra (xmltodict, a baseline) comes with the [test] extra setup installs.
bench: $(STAMP)
	$(BIN)/python -m bench

# The soak (bench/soak.py): SOAK_CLIENTS clients for SOAK_MINUTES minutes after SOAK_WARMUP seconds
# against `soapbridge serve` with the mock behind it, error requests interleaved; fails on any
# unexpected reply or RSS growth of 10 % or more. First FUZZ_SECONDS of Atheris on the compiled codec
# (bench/fuzz_codec.py); a finding is written to .fuzz/ and fails the target. Not part of `make test`.
SOAK_CLIENTS ?= 16
SOAK_MINUTES ?= 10
SOAK_WARMUP ?= 60
FUZZ_SECONDS ?= 120
SOAK_STAMP := $(VENV)/.installed-soak

$(SOAK_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -e '.[test,soak]'
	touch $(SOAK_STAMP)

soak: $(SOAK_STAMP)
	$(BIN)/python -m bench.fuzz_codec -max_total_time=$(FUZZ_SECONDS)
	$(BIN)/python -m bench.soak --clients $(SOAK_CLIENTS) --duration $$(( $(SOAK_MINUTES) * 60 )) --warmup $(SOAK_WARMUP)

# Regenerate the committed specs in openapi/ (a test fails when they drift).
openapi: $(STAMP)
	for f in wsdl/*.wsdl; do $(BIN)/soapbridge openapi $$f --config wsdl/samples.yaml -o openapi/$$(basename $$f .wsdl).json; done

# Re-record the exchanges in contracts/ (replayed by tests/test_recorded_contracts.py); review the diff.
contracts: $(STAMP)
	for f in wsdl/*.wsdl; do $(BIN)/soapbridge record $$f -o contracts; done

clean:
	rm -rf $(VENV) site .pytest_cache .ruff_cache .mypy_cache .soapbridge-cache tests/interop/node/node_modules tests/lint/node_modules tests/codegen/.venv
