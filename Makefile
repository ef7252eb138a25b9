# Two commands do everything on a fresh machine:
#   make demo   - set up, then run the whole pipeline offline on the embedded local engine
#   make test   - set up (Chromium included), then run the test suite
#   make fuzz   - the property/fuzz tests with 1,000 examples each instead of a few dozen
# make docs serves the documentation site on 127.0.0.1:8001; make docs-build builds it
# strictly into site/ (as the test suite does).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test fuzz setup browser lint bench docs docs-build clean

demo: $(STAMP)
	$(BIN)/rir demo

test: $(STAMP) browser
	$(BIN)/python -m pytest

# The property and fuzz tests with many more examples (a few minutes).
fuzz: $(STAMP)
	RIR_FUZZ_EXAMPLES=1000 $(BIN)/python -m pytest -m fuzz

setup: $(STAMP) browser

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[all,dev]"
	touch $(STAMP)

# Chromium for the Google Lens engine: a system one, Debian's package, or Playwright's.
browser: $(STAMP)
	VENV=$(VENV) sh scripts/ensure-browser.sh

lint: $(STAMP)
	$(BIN)/ruff check .

bench: $(STAMP)
	$(BIN)/python benchmarks/local_index.py

docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs serve --dev-addr 127.0.0.1:8001

docs-build: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir site

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache site dist
