# deliverypack: the two quick-start commands are `make demo` and `make test`.
# Everything runs in a project virtualenv (.venv), created on first use: a Debian or Ubuntu
# system Python refuses global installs, and a fresh clone has nothing installed.
BOOTSTRAP ?= python3
VENV ?= .venv
PYTHON ?= $(VENV)/bin/python
PIP = $(PYTHON) -m pip
STAMP = $(VENV)/.deliverypack-installed

.PHONY: setup demo test test-fast test-excel bench lint samples pictures clean docs wheel-smoke

$(VENV)/bin/python:
	$(BOOTSTRAP) -m venv $(VENV)

$(STAMP): pyproject.toml setup.py | $(VENV)/bin/python
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
	$(PYTHON) -m mypy
	$(PYTHON) -c "from importlinter.cli import lint_imports_command as c; c()" --no-cache  # layers

# Build the wheel, install it in a fresh virtualenv outside the checkout, run the demo there.
wheel-smoke: setup
	BOOTSTRAP=$(BOOTSTRAP) .ci/wheel-smoke $(PYTHON)

# Regenerate sample_returns/ with the seeded filler (deterministic).
samples: setup
	$(PYTHON) -m deliverypack.sample.rounds sample_returns

# Render the demo's outputs to PNG (LibreOffice, poppler) for the README.
pictures: setup
	$(PYTHON) -m deliverypack.render build/pictures docs/img

test-excel: setup
	XLWINGS_LICENSE_KEY=noncommercial $(PYTHON) -m pytest tests/excel/test_excel_addin.py

clean:
	rm -rf build .pytest_cache
docs: setup
	$(PYTHON) -m deliverypack.docs README.md
