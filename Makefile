# deliverypack: the two quick-start commands are `make demo` and `make test`.
PYTHON ?= python3
PIP = $(PYTHON) -m pip
STAMP = build/.installed

.PHONY: setup demo test test-fast bench lint samples pictures clean docs

$(STAMP): pyproject.toml
	@mkdir -p build
	$(PIP) install --quiet --disable-pip-version-check -e ".[dev]"
	@touch $(STAMP)

setup: $(STAMP)

demo: setup
	$(PYTHON) -m deliverypack.cli demo build/demo

test: setup
	$(PYTHON) -m pytest

test-fast: setup
	$(PYTHON) -m pytest -m "not soffice"

bench: setup
	$(PYTHON) bench/run.py

lint: setup
	$(PYTHON) -m ruff check src tests bench

# Regenerate sample_returns/ with the seeded filler (deterministic).
samples: setup
	$(PYTHON) -m deliverypack.sample.rounds sample_returns

clean:
	rm -rf build .pytest_cache
docs: setup
	$(PYTHON) -m deliverypack.docs
