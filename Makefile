# newsbeam: `make run` (the bundled sample) and `make test` from a fresh clone.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
OUTPUT ?= output

.PHONY: setup run test clean

setup: $(VENV)/.installed

$(VENV)/.installed: setup.py
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

run: setup
	$(PY) -m pipelines.ingest --output $(OUTPUT)

test: setup
	$(PY) -m pytest -q tests

clean:
	rm -rf $(OUTPUT) build *.egg-info .pytest_cache
