"""Every value typed into a return is either stored or reported.

For each kind of workbook (department return, organisation return, unit assessment,
meeting record) a distinct value is typed into every input cell, the workbook is ingested,
and each value is found again in the ledger record made from its row. Then every locked
cell, heading, title, note and column header is changed, and each change is reported at
its own cell."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from conftest import spec_of
from deliverypack.ledger.workspace import Workspace
from deliverypack.returns.ingest import ingest_file, validate_file
from deliverypack.templates.issue import issue_assessment, issue_organisation_returns
from deliverypack.templates.taskforce import issue_meeting_record
from deliverypack.validation.layout import cell_allowed, cell_is_input, cell_type
from deliverypack.validation.read import address, parse_ref


def _value(typ: str, allowed: list[str], n: int, key: str) -> tuple[Any, Any]:
    """(what is typed, what the ledger should hold) for the n-th input cell."""
    if allowed:
        pick = {"status": "On track", "attendance": "present"}.get(key, allowed[0])
        pick = pick if pick in allowed else allowed[0]
        return pick, pick
    if typ == "percent":
        points = round(10 + n * 0.01, 2)
        return points / 100, points
    if typ == "number":
        return (100000 + n, 100000 + n) if key == "denominator" else (n, n)
    if typ == "int":
        return n, n
    if typ == "date" and key == "period":  # a revision's month: one already past
        return dt.date(2002, 9, 1), "2002-09"
    if typ == "date":
        d = dt.date(2004, 2, 1) + dt.timedelta(days=n)
        return d, d.isoformat()
    return f"T{n:04d}", f"T{n:04d}"


def type_everything(template: Path, spec, target: Path) -> dict[tuple[str, str], Any]:
    """Type a value into every input cell; {(sheet, cell): expected stored value}."""
    wb = load_workbook(template)
    typed: dict[tuple[str, str], Any] = {}
    n = 0
    for _, block in spec.blocks():
        dn = wb.defined_names.get(block.name)
        if dn is None:
            continue
        rng = parse_ref(dn.attr_text)
        rows = block.rows + [{} for _ in range(block.free_rows)]
        for i, row in enumerate(rows):
            for j, col in enumerate(block.columns):
                if not (cell_is_input(col, row) or not block.rows):
                    continue
                n += 1
                typ = cell_type(block, col, row)
                raw, stored = _value(typ, cell_allowed(block, col, row), n, col.key)
                ref = address(rng.r1 + i, rng.c1 + j)
                wb[rng.sheet][ref] = raw
                typed[(rng.sheet, ref)] = stored
    wb.save(target)
    return typed


def _norm(v: Any) -> str | None:
    if v is None or v == "":
        return None
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, int | float):
        return repr(round(float(v), 6))
    return str(v).strip()


def _leaves(v: Any) -> set[str]:
    if isinstance(v, dict):
        return set().union(*(_leaves(x) for x in v.values())) if v else set()
    if isinstance(v, list):
        return set().union(*(_leaves(x) for x in v)) if v else set()
    if isinstance(v, str) and v[:1] in "{[":
        try:
            return _leaves(json.loads(v))
        except ValueError:
            pass
    s = _norm(v)
    return {s} if s else set()


def ledger_records(workspace: Workspace, sid: int) -> list[tuple[set[str] | None, set[str]]]:
    """(cells, values) for each record the submission made; cells None: the whole file."""
    led = workspace.ledger
    out: list[tuple[set[str] | None, set[str]]] = []
    for table in ("measure_values", "ratings", "texts", "milestone_updates",
                  "action_updates", "revisions"):
        for r in led.query(f"SELECT * FROM {table} WHERE submission_id=?", sid):
            d = dict(r)
            out.append(({d.get("cell") or ""}, _leaves(d)))
    sub = dict(led.query("SELECT * FROM submissions WHERE id=?", sid)[0])
    out.append((None, _leaves({k: sub[k] for k in ("contact", "signed_off_by",
                                                     "signed_off_on")}) |
                {w for w in (sub["contact"] or "").split()}))
    for r in led.query("SELECT record FROM meetings WHERE submission_id=?", sid):
        out.append((None, _leaves(r["record"])))
        for a in json.loads(r["record"])["new_actions"]:
            out.append((None, _leaves(dict(led.query("SELECT * FROM actions WHERE id=?",
                                                     a)[0]))))
    return out


def assert_every_value_stored(workspace: Workspace, path: Path, typed: dict) -> int:
    rep = ingest_file(workspace, path)
    assert rep.valid, rep.flatten(("code", "sheet", "cell", "message"))
    records = ledger_records(workspace, rep.submission_id)
    lost = []
    for (sheet, ref), want in typed.items():
        row = int("".join(ch for ch in ref if ch.isdigit()))
        near = set().union(*(vals for cells, vals in records if cells is None or any(
            c and int("".join(ch for ch in c if ch.isdigit())) == row for c in cells)))
        if _norm(want) not in near:
            lost.append((sheet, ref, want))
    assert not lost, f"typed but neither stored nor reported: {lost[:10]}"
    return len(typed)


def assert_every_locked_change_reported(workspace: Workspace, template: Path, spec, tmp: Path
                                        ) -> int:
    """Change every locked, non-key table cell and every heading, title, note and header;
    each change is reported at its own cell."""
    wb = load_workbook(template)
    changed: set[tuple[str, str]] = set()
    for sheet in spec.sheets:
        ws_ = wb[sheet.name]
        for ref in ("A1", "A2"):
            if ws_[ref].value:
                changed.add((sheet.name, ref))
        for block in sheet.blocks:
            dn = wb.defined_names.get(block.name)
            if dn is None:
                continue
            rng = parse_ref(dn.attr_text)
            header = rng.r1 - 1
            for j in range(len(block.columns)):
                changed.add((sheet.name, address(header, rng.c1 + j)))
            changed.add((sheet.name, address(header - (2 if block.note else 1), 1)))
            if block.note:
                changed.add((sheet.name, address(header - 1, 1)))
            for i, row in enumerate(block.rows):
                for j, col in enumerate(block.columns):
                    if col.role == "key" or cell_is_input(col, row) or \
                            row.get(col.key) in (None, "") or \
                            row.get("field") == "Template id":  # its identity: see below
                        continue
                    changed.add((sheet.name, address(rng.r1 + i, rng.c1 + j)))
    # (a changed template id makes the file unknown-template, tested elsewhere)
    for sheet, ref in changed:
        wb[sheet][ref] = "changed by the department"
    wb.save(tmp)
    rep, _ = validate_file(workspace, tmp)
    reported = {(i.sheet, i.cell) for i in rep.issues}
    missed = sorted(changed - reported)
    assert not missed, f"changed but not reported: {missed[:10]}"
    return len(changed)


COUNTS: dict[str, tuple[int, int]] = {}


def _check(workspace, template, tmp_path, kind):
    spec = spec_of(workspace, template)
    typed = type_everything(template, spec, tmp_path / f"{kind}-typed.xlsx")
    stored = assert_every_value_stored(workspace, tmp_path / f"{kind}-typed.xlsx", typed)
    locked = assert_every_locked_change_reported(workspace, template, spec,
                                                 tmp_path / f"{kind}-locked.xlsx")
    COUNTS[kind] = (stored, locked)
    print(f"{kind}: {stored} input cells stored, {locked} locked cells reported")
    assert stored > 0 and locked > 0


@pytest.mark.parametrize("dept", ["DH", "HO", "DfES"])
def test_department_return(workspace, tmp_path, dept):
    _check(workspace, workspace.outbox("2002-12") / f"{dept}-2002-12.xlsx", tmp_path,
           f"return {dept}")


def test_unit_assessment(workspace, tmp_path):
    _check(workspace, issue_assessment(workspace, "2002-12"), tmp_path, "assessment")


def test_meeting_record(workspace, tmp_path):
    _check(workspace, issue_meeting_record(workspace, "EOL", dt.date(2003, 9, 15)), tmp_path,
           "meeting")


@pytest.fixture
def org_ws(workspace, tmp_path) -> Workspace:
    """The sample programme with A&E four hours (AE4) returned by each trust itself."""
    wb = load_workbook(workspace.register_path)
    sh = wb["Measures"]
    col = next(c.column for c in sh[1] if c.value == "returned by")
    row = next(c.row for c in sh["A"] if c.value == "AE4")
    sh.cell(row=row, column=col, value="organisation")
    wb.save(workspace.register_path)
    workspace.ledger.close()
    root = tmp_path / "orgws"
    shutil.copytree(workspace.root, root)
    return Workspace.open(root)


def test_organisation_return(org_ws, tmp_path):
    paths = issue_organisation_returns(org_ws, "2002-12")
    assert paths
    _check(org_ws, paths[0], tmp_path, "organisation")
