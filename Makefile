# Two commands do all the set-up on a fresh machine (see README.md):
#   make demo   create .venv, install apigov, run its main job on the example fleet (demo/run.sh)
#   make test   install everything, then ruff, mypy and the whole test suite
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: demo test install install-dev lint typecheck pytest bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install --quiet -e .

install-dev: $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'

demo: install
	bash demo/run.sh

lint: install-dev
	$(BIN)/ruff check src tests bench examples
	$(BIN)/ruff format --check src tests bench examples

typecheck: install-dev
	$(BIN)/mypy

# pytest exits 5 when it collects no tests (e.g. a filtered run): say so rather than fail CI.
pytest: install-dev
	$(BIN)/python -m pytest -n auto -q; status=$$?; \
	if [ $$status -eq 5 ]; then echo "pytest collected no tests"; exit 0; fi; exit $$status

test: lint typecheck pytest

bench: install-dev
	$(BIN)/python bench/validate.py

# The example fleet (examples/README.md). `make pacts` rewrites contracts/*/pacts/ from the
# consumer tests in examples/consumers/; `make examples` serves every provider on 127.0.0.1
# (ports 8101-8105) until Ctrl-C.
.PHONY: pacts examples
pacts: install-dev
	PACT_DO_NOT_TRACK=true PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 \
	$(BIN)/python -m pytest -q -p no:cacheprovider examples/consumers

examples: install-dev
	$(BIN)/python -m examples.fleet serve

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache build dist src/*.egg-info
