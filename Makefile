# newsbeam: `make run` (the bundled sample) and `make test` from a fresh clone;
# `make lint` checks the code's lint and format (ruff); `make docs` builds the
# documentation site into build/site.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
OUTPUT ?= output

.PHONY: setup run test lint docs clean browser

setup: $(VENV)/.installed

$(VENV)/.installed: setup.py
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

run: setup
	$(PY) -m pipelines.ingest --output $(OUTPUT)

test: setup browser
	$(PY) -m pytest -q tests

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# The site from docs/ and mkdocs.yml, offline; any warning fails the build.
docs: setup
	NO_MKDOCS_2_WARNING=1 $(PY) -m mkdocs build --strict --site-dir build/site

# The report test renders report.html in headless Chromium. A fresh machine
# has none: install Debian's package when missing (root, or sudo without a
# password); if that fails the test says so and is skipped.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo -n)
browser:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
	  { echo "installing chromium for the report test"; \
	    $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null && \
	    $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } || \
	  echo "chromium could not be installed: the report's browser test will be skipped"

clean:
	rm -rf $(OUTPUT) build *.egg-info .pytest_cache
