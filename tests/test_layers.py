"""The layer contract in pyproject.toml is kept, and it does fail on an upward import: a copy
of the package with one import from the foundation up to the outputs breaks it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import deliverypack

SRC = Path(deliverypack.__file__).parent
PYPROJECT = Path(__file__).parents[1] / "pyproject.toml"
LINT = [sys.executable, "-c", "from importlinter.cli import lint_imports_command as c; c()",
        "--no-cache"]


def _lint(package_parent: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(package_parent)}
    return subprocess.run([*LINT, str(PYPROJECT)], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120)


def test_the_tree_keeps_its_layers(tmp_path):
    r = _lint(SRC.parent, tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "1 kept, 0 broken" in r.stdout


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
