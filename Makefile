# Two commands do everything on a fresh machine:
#   make demo   - set up, then run the whole pipeline offline on the embedded local engine
#   make test   - set up (Chromium included), then run the test suite
#   make fuzz   - the property/fuzz tests with 1,000 examples each instead of a few dozen
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test fuzz setup browser lint bench clean

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

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
