# Two commands for a fresh machine with Python 3.11: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip

.PHONY: demo test lint bench bench-quick mutate clean

$(VENV)/.demo-installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q -e '.[cli,sklearn]'
	touch $@

$(VENV)/.test-installed: pyproject.toml scripts/install-system-deps.sh
	bash scripts/install-system-deps.sh test
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q -e '.[test]'
	touch $@ $(VENV)/.demo-installed

$(VENV)/.mutate-installed: pyproject.toml scripts/install-system-deps.sh
	bash scripts/install-system-deps.sh test
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q -e '.[mutate]'
	touch $@ $(VENV)/.test-installed $(VENV)/.demo-installed

$(VENV)/.bench-installed: pyproject.toml scripts/install-system-deps.sh
	bash scripts/install-system-deps.sh bench
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q -e '.[bench]'
	touch $@

demo: $(VENV)/.demo-installed
	$(PY) examples/demo.py

test: $(VENV)/.test-installed
	$(PY) -m ruff check src tests benchmarks examples
	$(PY) -m pytest -q

bench: $(VENV)/.bench-installed
	$(PY) benchmarks/run.py

bench-quick: $(VENV)/.bench-installed
	$(PY) benchmarks/run.py --quick

# Mutation testing (not part of `make test`): every module listed under [tool.deltaprop.mutate]
# in pyproject.toml, or a selection: make mutate MODULES="src/deltaprop/schedules.py"
MODULES ?=
MUTATE_JOBS ?= 2
mutate: $(VENV)/.mutate-installed
	$(PY) scripts/mutate.py --jobs $(MUTATE_JOBS) $(MODULES)

lint: $(VENV)/.test-installed
	$(PY) -m ruff check src tests benchmarks examples

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info .pytest_cache .ruff_cache .hypothesis
