"""The officer's cases typed through LibreOffice's own engine (tests/lo_fill.py): the
values LibreOffice calculates, converts and saves are read as the officer sees them, and a
row LibreOffice inserts under a full table is stored."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from bookkit import where
from conftest import block, soffice, spec_of
from deliverypack.returns.ingest import ingest_file, validate_file
from places import LO_FILL

pytestmark = [pytest.mark.soffice,
              pytest.mark.skipif(soffice() is None, reason="LibreOffice is not installed")]


def lo_type(template: Path, values: list, out: Path) -> Path:
    spec = out.with_suffix(".json")
    spec.write_text(json.dumps(values))
    subprocess.run(["/usr/bin/python3", str(LO_FILL),
                    str(template), str(spec), str(out)], check=True, timeout=240)
    return out


def test_values_typed_in_libreoffice_are_read_as_shown(workspace, filled, tmp_path):
    p = filled("DH")
    spec = spec_of(workspace, p)
    traj = block(spec, "traj")
    inputs = [k for k, r in enumerate(traj.rows) if "actual" in r.inputs]
    cells = [where(p, traj.name, inputs[k], "actual", spec) for k in range(3)]
    cover = block(spec, "cover")
    signoff = where(p, cover.name, next(k for k, r in enumerate(cover.rows)
                                        if r["field"] == "Sign-off date"), "value", spec)
    narrative = where(p, block(spec, "assess").name, 5, "now", spec)
    sheet = cells[0][0]
    out = lo_type(p, [
        [*cells[0], {"formula": "=1/0"}],
        [*cells[1], 1.6],
        [*cells[2], 98],
        [*signoff, 2003],
        [*narrative, {"formula": "=1.5+0.035"}],
        [sheet, "L3", "Figures are provisional"],
    ], tmp_path / "DH-lo.xlsx")
    rep, _ = validate_file(workspace, out)
    found = {(i.code, i.sheet, i.cell): i.message for i in rep.issues}
    assert "#DIV/0!" in found[("excel-error", *cells[0])]
    assert "found 160%" in found[("out-of-range", *cells[1])]
    assert "shows 9,800%" in found[("percent-as-points", *cells[2])]
    assert "25 Jun 1905" in found[("implausible-date", *signoff)]
    assert "its saved value '1.535' was taken" in found[("formula-input", *narrative)]
    assert "'Figures are provisional'" in found[("outside-input", sheet, "L3")]


def test_a_row_libreoffice_inserts_below_a_full_table_is_stored(workspace, filled, tmp_path):
    p = filled("HO")
    spec = spec_of(workspace, p)
    iss = block(spec, "issues")
    values = []
    for i in range(iss.free_rows):
        sheet, ref = where(p, iss.name, i, "type", spec)
        values += [[sheet, ref, "Issue"], [sheet, f"B{ref[1:]}", f"Issue number {i + 1}"]]
    below = int(ref[1:]) + 1
    values += [[sheet, f"A{below}", {"insert_row": True}], [sheet, f"A{below}", "Issue"],
               [sheet, f"B{below}", "A fifth issue, in a row LibreOffice inserted"]]
    out = lo_type(p, values, tmp_path / "HO-lo.xlsx")
    rep = ingest_file(workspace, out)
    assert rep.valid, rep.flatten(("code", "sheet", "cell", "message"))
    texts = {r["text"] for r in workspace.ledger.query(
        "SELECT text FROM texts WHERE submission_id=? AND kind='issue'", rep.submission_id)}
    assert "A fifth issue, in a row LibreOffice inserted" in texts
    assert len({t for t in texts if t.startswith("Issue number")}) == iss.free_rows
