"""The import contracts in pyproject.toml are kept, and they do fail: a copy of the package with
one import from the foundation up to the outputs, or one circle inside a layer, breaks them."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import deliverypack
from places import ROOT

SRC = Path(deliverypack.__file__).parent
PYPROJECT = ROOT / "pyproject.toml"
LINT = [sys.executable, "-c", "from importlinter.cli import lint_imports_command as c; c()",
        "--no-cache"]


def _lint(package_parent: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(package_parent)}
    return subprocess.run([*LINT, str(PYPROJECT)], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120)


def test_the_tree_keeps_its_layers(tmp_path):
    r = _lint(SRC.parent, tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "2 kept, 0 broken" in r.stdout


def test_an_upward_import_breaks_the_contract(tmp_path):
    copy = tmp_path / "src" / "deliverypack"
    shutil.copytree(SRC, copy, ignore=shutil.ignore_patterns("__pycache__"))
    periods = copy / "foundation" / "periods.py"
    periods.write_text(periods.read_text() + "\n\ndef _upward():\n"
                       "    from ..outputs.deck import build_deck  # noqa: F401\n")
    r = _lint(tmp_path / "src", tmp_path)
    assert r.returncode != 0
    assert "BROKEN" in r.stdout.upper()
    assert "deliverypack.foundation.periods -> deliverypack.outputs.deck" in r.stdout


def test_a_circle_inside_a_layer_breaks_the_contract(tmp_path):
    copy = tmp_path / "src" / "deliverypack"
    shutil.copytree(SRC, copy, ignore=shutil.ignore_patterns("__pycache__"))
    cells = copy / "validation" / "cells.py"  # checks imports cells: cells must not import it
    cells.write_text(cells.read_text() + "\n\ndef _circle():\n"
                     "    from .checks import check_book  # noqa: F401\n")
    r = _lint(tmp_path / "src", tmp_path)
    assert r.returncode != 0
    assert "No cycles are allowed in deliverypack.validation" in r.stdout
