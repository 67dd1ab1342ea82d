"""Every issue code in the catalogue is triggered by a real, mutated workbook."""

from __future__ import annotations

import ast
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook

from conftest import block, spec_of
from deliverypack.returns import intake
from deliverypack.returns.ingest import validate_file
from deliverypack.validation.issues import CATALOGUE
from places import ROOT, TESTS


def _rows(spec, kind, col="actual"):
    b = block(spec, kind)
    return b, [k for k, r in enumerate(b.rows) if col in r.inputs]


def _rewrite(src: Path, dst: Path, change, compression=zipfile.ZIP_DEFLATED) -> Path:
    """Copy a workbook's zip, letting `change(name, data)` alter or add parts."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", compression) as zout:
        for item in zin.infolist():
            data = change(item.filename, zin.read(item.filename))
            if data is not None:
                zout.writestr(item.filename, data)
        for name, data in change.extra if hasattr(change, "extra") else []:
            zout.writestr(name, data)
    return dst


def check(workspace, path, code, sheet=None, cell=None):
    rep, _ = validate_file(workspace, path)
    hits = [i for i in rep.issues if i.code == code]
    assert hits, f"{code} not raised; got {rep.flatten(('code', 'sheet', 'cell', 'message'))}"
    if sheet:
        assert hits[0].sheet == sheet
    if cell:
        assert hits[0].cell == cell
    assert hits[0].message and hits[0].severity == CATALOGUE[code].severity
    return hits[0]


# ----------------------------------------------------------------------------- file level
def test_file_level_refusals(workspace, filled, tmp_path, monkeypatch):
    good = filled("BIS")
    empty = tmp_path / "empty.xlsx"
    empty.write_bytes(b"")
    check(workspace, empty, "file-unreadable")
    csv = tmp_path / "renamed.xlsx"
    csv.write_text("department,value\nHO,12\n")
    assert "text file" in check(workspace, csv, "not-a-workbook").message
    xls = tmp_path / "old.xls"
    xls.write_bytes(intake.OLE2 + b"\0" * 2048)
    check(workspace, xls, "legacy-xls")
    enc = tmp_path / "secret.xlsx"
    enc.write_bytes(intake.OLE2 + b"\0" * 512 + "EncryptionInfo".encode("utf-16-le"))
    check(workspace, enc, "encrypted")
    monkeypatch.setattr(intake, "MAX_FILE_BYTES", 1000)
    check(workspace, good, "file-too-large")
    monkeypatch.undo()
    bomb = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.xml", "<workbook/>")
        z.writestr("xl/worksheets/sheet1.xml", b"\0" * (20 * 1024 * 1024))
    check(workspace, bomb, "zip-bomb")
    slip = tmp_path / "slip.xlsx"
    with zipfile.ZipFile(slip, "w") as z:
        z.writestr("../../etc/evil", "x")
    check(workspace, slip, "unsafe-zip-entry")


@pytest.mark.parametrize("compression", [zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED,
                                         zipfile.ZIP_BZIP2])
@pytest.mark.parametrize("part", ["xl/workbook.xml", "xl/worksheets/sheet2.xml"])
def test_xml_entity_attack_is_refused_before_parsing(workspace, filled, tmp_path, compression,
                                                     part):
    """Whether the part is deflated, stored or (read through zipfile) bzip2-compressed."""
    good = filled("BIS")
    evil = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 '
            b'"&lol;&lol;&lol;&lol;">]>')

    def change(name, data):
        return evil + data.split(b"?>", 1)[-1] if name == part else data
    hit = check(workspace, _rewrite(good, tmp_path / "xxe.xlsx", change, compression), "unsafe-xml")
    assert part in hit.found
    clean = _rewrite(good, tmp_path / "clean.xlsx", lambda n, d: d, compression)
    assert "unsafe-xml" not in validate_file(workspace, clean)[0].codes()


def test_an_endless_xml_prologue_is_refused(workspace, filled, tmp_path):
    good = filled("BIS")

    def change(name, data):
        return b"<?xml version='1.0'?>" + b"<!-- padding -->" * 400 + data.split(b"?>", 1)[-1] \
            if name == "xl/styles.xml" else data
    hit = check(workspace, _rewrite(good, tmp_path / "long.xlsx", change), "unsafe-xml")
    assert "oversized XML prologue in xl/styles.xml" in hit.found


def test_macros_and_external_links_added_to_our_template_are_refused(workspace, filled, tmp_path):
    good = filled("BIS")

    def add(parts):
        def change(name, data):
            return data
        change.extra = parts
        return change
    check(workspace, _rewrite(good, tmp_path / "m.xlsx", add([("xl/vbaProject.bin", b"VBA")])),
          "macros-present")
    check(workspace, _rewrite(good, tmp_path / "l.xlsx",
                       add([("xl/externalLinks/externalLink1.xml", b"<externalLink/>")])),
          "external-links")
    rep = intake.inspect(_rewrite(good, tmp_path / "m2.xlsx", add([("xl/vbaProject.bin",
                                                                     b"VBA")])),
                         allow_macros=True)
    assert [i.code for i in rep.issues] == ["macros-ignored"]


# ----------------------------------------------------------------------------- structure
def test_structure_codes(workspace, filled, tmp_path):
    good = filled("HO")
    wb = load_workbook(good)
    wb["Cover"][_cover_cell(wb, "Template id")] = "DP-RETURN-HO-1999-01-XXXXXX"
    p = tmp_path / "unknown.xlsx"
    wb.save(p)
    check(workspace, p, "unknown-template")

    wb = load_workbook(good)
    del wb["HO7 Removals"]
    p = tmp_path / "nosheet.xlsx"
    wb.save(p)
    check(workspace, p, "missing-sheet", sheet="HO7 Removals")
    wb = load_workbook(good)
    del wb.defined_names["dp_HO6_asks"]
    p = tmp_path / "noname.xlsx"
    wb.save(p)
    check(workspace, p, "missing-name")

    spec = spec_of(workspace, good)
    traj = block(spec, "traj")
    wb = load_workbook(good)
    ref = wb.defined_names[traj.name].attr_text
    sheet, cells = ref.split("!")
    sheet = sheet.strip("'")
    first_row = int(cells.split(":")[0].split("$")[2])
    wb[sheet][f"B{first_row}"] = 1.0  # a planned value, locked
    wb[sheet][f"A{first_row + 1}"] = None  # a period key wiped: row becomes unexpected
    p = tmp_path / "locked.xlsx"
    wb.save(p)
    check(workspace, p, "locked-cell-changed", sheet=sheet, cell=f"B{first_row}")
    check(workspace, p, "unexpected-row", sheet=sheet)
    check(workspace, p, "missing-row", sheet=sheet)

    wb = load_workbook(good)
    wb[sheet][f"A{first_row + 1}"] = wb[sheet][f"A{first_row}"].value
    p = tmp_path / "dup.xlsx"
    wb.save(p)
    check(workspace, p, "duplicate-key", sheet=sheet)

    # a template whose round or department has since left the register, or an old version
    led = workspace.ledger
    tid = spec.template_id
    stale = spec.model_copy(update={"round": "1999-01", "department": "MOD"})
    led.db.execute("UPDATE templates SET spec=? WHERE template_id=?",
                   (stale.model_dump_json(), tid))
    led._specs.clear()  # the spec changed behind the ledger's cache
    check(workspace, good, "unknown-round")
    check(workspace, good, "unknown-department")
    led.db.execute("UPDATE templates SET spec=? WHERE template_id=?",
                   (spec.model_dump_json(), tid))
    led._specs.clear()
    old = tmp_path / "old.xlsx"
    wb = load_workbook(good)
    version_cell = _cover_cell(wb, "Template version")
    wb["Cover"][version_cell] = "0.9"
    wb.save(old)
    check(workspace, old, "wrong-version", sheet="Cover", cell=version_cell)


def _cover_cell(wb, label):
    row = next(r for r in wb["Cover"].iter_rows() if r[0].value == label)
    return row[1].coordinate


# ----------------------------------------------------------------------------- cells
def test_cell_codes(workspace, filled):
    spec = spec_of(workspace, workspace.outbox("2002-12") / "DH-2002-12.xlsx")
    traj, inputs = _rows(spec, "traj")
    assess = block(spec, "assess")
    cover = block(spec, "cover")
    miles = block(spec, "miles")
    orgs = block(spec, "orgs")
    risks = block(spec, "risks")
    signoff = next(k for k, r in enumerate(cover.rows) if r["field"] == "Sign-off date")
    contact = next(k for k, r in enumerate(cover.rows) if r["field"] == "Contact name")
    p = filled("DH", overrides={
        (traj.name, inputs[0], "actual"): "n/a",
        (traj.name, inputs[1], "actual"): " 94.5% ",
        (traj.name, inputs[2], "actual"): 180,
        (traj.name, inputs[3], "actual"): 9100,  # the cell holds 91 (shows 9,100%)
        (traj.name, inputs[4], "actual"): 10,
        (traj.name, inputs[5], "actual"): None,
        (assess.name, 0, "now"): "Very high",
        (assess.name, 1, "now"): "Purple",
        (cover.name, contact, "value"): None,
        (cover.name, signoff, "value"): "31/12/2002",
        (miles.name, 0, "forecast"): "soon",
        (risks.name, 0, "risk"): "=HYPERLINK(\"http://x\",\"click\")",
        (risks.name, 1, "risk"): "x" * 4100,
        (orgs.name, 0, "numerator"): 9999999,
    })
    check(workspace, p, "not-a-number", sheet="DH1 A&E 4 hours")
    check(workspace, p, "number-as-text")
    check(workspace, p, "out-of-range")
    check(workspace, p, "percent-as-points")
    check(workspace, p, "implausible-value")
    check(workspace, p, "value-normalised")
    check(workspace, p, "not-allowed")
    check(workspace, p, "required-missing", sheet="Cover")
    check(workspace, p, "date-as-text", sheet="Cover")
    check(workspace, p, "not-a-date")
    check(workspace, p, "formula-text")
    check(workspace, p, "text-too-long")
    check(workspace, p, "actual-missing")


def test_cross_field_codes(workspace, filled):
    spec = spec_of(workspace, workspace.outbox("2002-12") / "HO-2002-12.xlsx")
    assess = block(spec, "assess")
    miles = block(spec, "miles")
    due_row = 1
    p = filled("HO", overrides={
        (assess.name, 4, "now"): "R", (assess.name, 5, "now"): None,
        (miles.name, 0, "status"): "Delayed", (miles.name, 0, "forecast"): None,
        (miles.name, due_row, "status"): "On track",
        (miles.name, due_row, "forecast"): "2009-01-01",
    })
    check(workspace, p, "narrative-required", cell=f"D{_row_of(workspace, p, assess.name, 5)}")
    check(workspace, p, "forecast-date-required")
    check(workspace, p, "forecast-date-inconsistent")


def _row_of(workspace, path, name, i):
    wb = load_workbook(path)
    return int(wb.defined_names[name].attr_text.split("$")[2].split(":")[0]) + i


def test_codes_raised_by_the_register_and_meeting_records(workspace, tmp_path):
    from deliverypack.validation.register import read_register
    wb = load_workbook(workspace.register_path)
    wb["Priorities"]["B2"] = "MOD"
    p = tmp_path / "register.xlsx"
    wb.save(p)
    issues = read_register(p)[2]
    assert [i.code for i in issues] == ["unknown-reference"]
    assert "MOD" in issues[0].text()


def _codes_asserted(path: Path) -> set[str]:
    """Issue codes a test module proves are raised: the code argument of `check(...)` and
    `one(...)`, string literals inside `assert` statements or passed to an `_assert...`
    helper, the code a `next(i for i in issues if i.code == ...)` must find (it raises
    when none is), and the value bound to `code` where a test then asserts on `code`."""
    tree = ast.parse(path.read_text())
    found: set[str] = set()
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                and node.func.id == "check" and len(node.args) >= 3
                and isinstance(node.args[2], ast.Constant)):
            found.add(node.args[2].value)
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                and node.func.id == "one" and len(node.args) >= 2
                and isinstance(node.args[1], ast.Constant)):
            found.add(node.args[1].value)
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                and node.func.id == "next" and len(node.args) == 1):
            for cmp in ast.walk(node.args[0]):
                if isinstance(cmp, ast.Compare) and isinstance(cmp.ops[0], ast.Eq) and \
                        "code" in ast.unparse(cmp.left) and \
                        isinstance(cmp.comparators[0], ast.Constant):
                    found.add(cmp.comparators[0].value)
        elif isinstance(node, ast.Assert) or (
                isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                and node.func.id.startswith("_assert")):
            found |= {c.value for c in ast.walk(node)
                      if isinstance(c, ast.Constant) and isinstance(c.value, str)}
        elif (isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Tuple)
              and isinstance(node.value, ast.Tuple)):
            for name, value in zip(node.targets[0].elts, node.value.elts, strict=False):
                if (isinstance(name, ast.Name) and name.id == "code"
                        and isinstance(value, ast.Constant)):
                    found.add(value.value)
    return found


def test_every_code_is_triggered_and_documented():
    """Each code in the catalogue is asserted raised by some test (each of those runs on
    its own), and documented: the catalogue and the tests cannot drift apart."""
    from deliverypack.docs import codes_table
    asserted = set().union(*(_codes_asserted(p) for p in TESTS.rglob("test_*.py")))
    missing = set(CATALOGUE) - asserted
    assert not missing, f"codes no test asserts are raised: {sorted(missing)}"
    table = codes_table()
    for code in CATALOGUE:
        assert f"`{code}`" in table
    readme = (ROOT / "README.md").read_text()
    assert table in readme, "README's code table is stale: run `make docs`"
