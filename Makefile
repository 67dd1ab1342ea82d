# deliverypack: the two quick-start commands are `make demo` and `make test`.
PYTHON ?= python3
PIP = $(PYTHON) -m pip
STAMP = build/.installed

.PHONY: setup demo test test-fast test-excel bench lint samples pictures clean docs

$(STAMP): pyproject.toml
	@mkdir -p build
	$(PIP) install --quiet --disable-pip-version-check -e ".[dev,excel]"
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

# Render the demo's outputs to PNG (LibreOffice, poppler) for the README.
pictures: setup
	$(PYTHON) -m deliverypack.render build/pictures docs/img

test-excel: setup
	XLWINGS_LICENSE_KEY=noncommercial $(PYTHON) -m pytest tests/test_excel_addin.py

clean:
	rm -rf build .pytest_cache
docs: setup
	$(PYTHON) -m deliverypack.docs
