"""Where the tests find the project, its samples and the real data, said once, so a test
can sit at any depth of tests/ (unit tests mirror the source tree; end-to-end tests sit
at the top)."""

from __future__ import annotations

from pathlib import Path

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
SAMPLE_RETURNS = ROOT / "sample_returns"
SHARED = ROOT.parent / "shared"
REALDATA = SHARED / "data" / "realdata"
FIXTURES = SHARED / "fixtures"
# sitecustomize.py that injects faults into a child process put on its PYTHONPATH
FAULTS = TESTS / "returns" / "faults"
LO_FILL = TESTS / "lo_fill.py"
