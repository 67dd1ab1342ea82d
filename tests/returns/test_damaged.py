"""Damaged packages and odd values: every case is built here from a good return, and each
is refused with a code naming the file and the part (or the sheet and cell), never a
traceback, never a silent accept; one damaged file never costs the batch."""

from __future__ import annotations

import json
import os
import stat
import struct
import warnings
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook

from bookkit import cli, copies, edit, rewrite, where
from conftest import block, spec_of
from deliverypack.returns.ingest import ingest_file, validate_file
from deliverypack.validation.read import BookValues, sheet_parts
from places import FAULTS


def add_members(src: Path, dst: Path, members: list[tuple[zipfile.ZipInfo | str, bytes]]
                ) -> Path:
    """A copy of the package with more members appended (zipfile warns of a repeated name;
    that repetition is the damage wanted)."""
    rewrite(src, dst, lambda n, d: d)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with zipfile.ZipFile(dst, "a", zipfile.ZIP_DEFLATED) as z:
            for info, data in members:
                z.writestr(info, data)
    return dst


def patch_entry(path: Path, name: str, *, file_size: int | None = None,
                crc: int | None = None) -> Path:
    """Change the size or checksum recorded for a member, in its local header and in the
    central directory alike, as a tool that lies would."""
    b = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as z:
        local = z.getinfo(name).header_offset
    central = b.find(b"PK\x01\x02")
    while b[central + 46:central + 46 + struct.unpack_from("<H", b, central + 28)[0]] \
            != name.encode():
        central = b.find(b"PK\x01\x02", central + 4)
    for at, crc_at, size_at in ((local, 14, 22), (central, 16, 24)):
        if crc is not None:
            struct.pack_into("<L", b, at + crc_at, crc)
        if file_size is not None:
            struct.pack_into("<L", b, at + size_at, file_size)
    path.write_bytes(bytes(b))
    return path


def part_of(src: Path, sheet: str) -> str:
    with zipfile.ZipFile(src) as zf:
        return sheet_parts(zf)[sheet]


def _flip_stored_byte(good: Path, dst: Path, part: str) -> Path:
    """Bit rot: one byte of a stored part changed, its checksum left as it was."""
    rewrite(good, dst, lambda n, d: d, stored=(part,))
    with zipfile.ZipFile(good) as z:
        tail = z.read(part)[-300:-200]
    b = bytearray(dst.read_bytes())
    b[b.find(tail) + 10] ^= 0x01
    dst.write_bytes(bytes(b))
    return dst


def _link(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.create_system = 3  # unix: the mode in the high bits says what the member is
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info


def _padded(part: str):
    """Five million spaces inside a part: harmless, but it is more than its entry says."""
    return lambda n, d: d.replace(b"</worksheet>", b" " * 5_000_000 + b"</worksheet>") \
        if n == part else d


# case -> (build(good, dst, cover part) -> file, code, words the issue must hold)
CASES = {
    "bad-crc-stored": (lambda g, d, p: _flip_stored_byte(g, d, p), "package-damaged",
                       ["bad checksum (CRC)", "{p}"]),
    "bad-crc-deflated": (lambda g, d, p: patch_entry(rewrite(g, d, lambda n, x: x), p,
                                                     crc=0x1234), "package-damaged",
                         ["bad checksum (CRC)", "{p}"]),
    "malformed-sheet-xml": (lambda g, d, p: rewrite(g, d, lambda n, x: x.replace(
        b"</row>", b"</rwo>", 1) if n == p else x), "package-damaged",
        ["malformed XML", "{p}", "sheet 'Cover'", "mismatched tag"]),
    "truncated-sheet-xml": (lambda g, d, p: rewrite(g, d, lambda n, x: x[:-40] if n == p
                                                    else x), "package-damaged",
                            ["malformed XML", "{p}", "sheet 'Cover'"]),
    "duplicate-member": (lambda g, d, p: add_members(g, d, [(p, zipfile.ZipFile(g).read(p)
                         .replace(b"</sheetData>", b'<row r="40"><c r="A40" t="inlineStr">'
                                  b'<is><t>hidden</t></is></c></row></sheetData>'))]),
                         "package-damaged", ["{p} twice"]),
    "duplicate-member-case": (lambda g, d, p: add_members(g, d, [(p.upper(), b"<a/>")]),
                              "package-damaged", ["twice"]),
    "link-member": (lambda g, d, p: add_members(g, d, [(_link("xl/media/image1.png"),
                                                        b"../../../../etc/passwd")]),
                    "package-damaged", ["xl/media/image1.png", "link"]),
    "backslash-climbing": (lambda g, d, p: add_members(g, d, [("xl\\..\\..\\evil.xml",
                                                               b"<a/>")]),
                           "unsafe-zip-entry", ["evil.xml"]),
    "backslash-name": (lambda g, d, p: add_members(g, d, [("xl\\worksheets\\sheet9.xml",
                                                           b"<a/>")]),
                       "unsafe-zip-entry", ["sheet9.xml"]),
    "understated-size": (lambda g, d, p: patch_entry(rewrite(g, d, _padded(p)), p,
                                                     file_size=4000), "package-damaged",
                         ["{p}", "more than the 4,000 bytes"]),
    "overstated-size": (lambda g, d, p: patch_entry(rewrite(g, d, lambda n, x: x), p,
                                                    file_size=len(zipfile.ZipFile(g).read(p))
                                                    + 10), "package-damaged", ["{p}"]),
    "malformed-unread-app": (lambda g, d, p: rewrite(g, d, lambda n, x: x[:-10] if n ==
                                                     "docProps/app.xml" else x),
                             "package-damaged", ["malformed XML", "docProps/app.xml"]),
    "malformed-unread-theme": (lambda g, d, p: rewrite(g, d, lambda n, x: x.replace(
        b"<a:", b"<a :", 1) if n == "xl/theme/theme1.xml" else x), "package-damaged",
        ["malformed XML", "xl/theme/theme1.xml", "line 2"]),
    "malformed-styles": (lambda g, d, p: rewrite(g, d, lambda n, x: x.replace(
        b"</fonts>", b"", 1) if n == "xl/styles.xml" else x), "package-damaged",
        ["malformed XML", "xl/styles.xml"]),
    "malformed-rels": (lambda g, d, p: rewrite(g, d, lambda n, x: x + b"<x" if n ==
                                               "_rels/.rels" else x), "package-damaged",
                       ["malformed XML", "_rels/.rels"]),
    "raw-control-character": (lambda g, d, p: rewrite(g, d, lambda n, x: x.replace(
        b"<t>", b"<t>\x01", 1) if n == p else x), "package-damaged",
        ["malformed XML", "{p}", "invalid token"]),
    "control-character-reference": (lambda g, d, p: rewrite(g, d, lambda n, x: x.replace(
        b"<t>", b"<t>&#1;", 1) if n == p else x), "package-damaged",
        ["malformed XML", "{p}", "invalid character"]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_damaged_package_is_refused_naming_the_file_and_part(workspace, filled, tmp_path, case):
    good = filled("DH")
    assert validate_file(workspace, good)[0].valid
    build, code, words = CASES[case]
    cover = part_of(good, "Cover")
    bad = build(good, tmp_path / f"{case}.xlsx", cover)
    rep, read = validate_file(workspace, bad)
    assert read is None and not rep.valid
    assert [i.code for i in rep.errors] == [code], rep.flatten(("code", "message"))
    hit = rep.errors[0]
    assert hit.file == bad.name
    for w in words:
        assert w.format(p=cover) in hit.message, hit.message


def test_a_bomb_whose_directory_understates_its_size_costs_a_chunk(workspace, filled, tmp_path):
    """150 MB of one byte compresses to 150 KB; its entry says 4,000 bytes, so the ratio
    guard sees nothing odd: the read stops one chunk past the declared size."""
    import tracemalloc

    good = filled("DH")
    part = part_of(good, "Cover")
    bomb = rewrite(good, tmp_path / "bomb.xlsx", lambda n, d: d.replace(
        b"</worksheet>", b" " * 150_000_000 + b"</worksheet>") if n == part else d)
    patch_entry(bomb, part, file_size=4000)
    assert bomb.stat().st_size < 1_000_000
    peaks = []
    for f in (good, bomb):  # the bomb against the good file it was made from
        tracemalloc.start()
        try:
            rep, _ = validate_file(workspace, f)
            peaks.append(tracemalloc.get_traced_memory()[1])
        finally:
            tracemalloc.stop()
    assert [i.code for i in rep.errors] == ["package-damaged"]
    assert "more than the 4,000 bytes" in rep.errors[0].message
    assert peaks[1] < peaks[0] + 8_000_000, peaks  # the whole part would be 150 MB


def test_damaged_files_in_a_batch_cost_only_themselves(workspace, filled, tmp_path):
    """Every damaged case between good returns, through the real command: exit 1, valid
    JSON, each damaged file rejected with its code, every good file accepted, and no
    traceback."""
    good = filled("DH")
    cover = part_of(good, "Cover")
    inbox = tmp_path / "inbox"
    files = copies(good, inbox, len(CASES) + 3)
    expected = {}
    for k, case in enumerate(sorted(CASES), start=1):
        build, code, _ = CASES[case]
        src = files[k]
        tmp = build(src, src.with_suffix(".tmp"), cover)
        tmp.replace(src)
        expected[src.name] = code
    r = cli("ingest", str(inbox), "-w", str(workspace.root), "--json")
    assert r.returncode == 1 and "Traceback" not in r.stderr, r.stderr[-2000:]
    out = {Path(x["file"]).name: x for x in json.loads(r.stdout)}
    assert len(out) == len(files)
    for f in files:
        x = out[f.name]
        if f.name in expected:
            assert x["status"] == "rejected", x
            assert [i["code"] for i in x["issues"] if i["severity"] == "error"] == [
                expected[f.name]], x
        else:
            assert x["status"] == "accepted", x
    rows = workspace.ledger.query("SELECT status, count(*) FROM submissions GROUP BY status")
    assert dict(map(tuple, rows)) == {"accepted": 3, "rejected": len(CASES)}


# ----------------------------------------------------------------------------- odd values
def _patched(src: Path, dst: Path, old: bytes, new: bytes) -> Path:
    """Replace bytes in whichever part holds them (exactly once in the package)."""
    hits = []

    def change(name: str, data: bytes) -> bytes:
        if old in data:
            hits.append(name)
        return data.replace(old, new)
    rewrite(src, dst, change)
    assert len(hits) == 1, hits
    return dst


def test_nan_infinity_and_control_characters_agree_in_every_kind_of_cell(workspace, filled,
                                                                         tmp_path):
    """A number cell, a text cell, and a cell outside the inputs: each odd value is its
    own error at its own cell, the same code whatever the cell expects."""
    p = filled("DH")
    spec = spec_of(workspace, p)
    traj = block(spec, "traj")
    inputs = [k for k, r in enumerate(traj.rows) if "actual" in r.inputs]
    num = where(p, traj.name, inputs[0], "actual", spec)
    num2 = where(p, traj.name, inputs[1], "actual", spec)
    text = where(p, traj.name, inputs[2], "comment", spec)
    text2 = where(p, traj.name, inputs[3], "comment", spec)
    f = edit(p, tmp_path / "e.xlsx", {num: 0.5, num2: 0.25, text: 0.125,
                                      text2: "before SENTINEL after"})
    f = _patched(f, tmp_path / "a.xlsx", b"<v>0.5</v>", b"<v>NaN</v>")
    f = _patched(f, tmp_path / "b.xlsx", b"<v>0.25</v>", b"<v>-INF</v>")
    f = _patched(f, tmp_path / "c.xlsx", b"<v>0.125</v>", b"<v>NaN</v>")
    f = _patched(f, tmp_path / "d.xlsx", b"SENTINEL", b"ring_x0007_bell")
    rep, read = validate_file(workspace, f)
    found = {(i.code, i.sheet, i.cell): i.message for i in rep.issues}
    assert "found NaN (not a number)" in found[("number-not-finite", *num)]
    assert "found minus infinity" in found[("number-not-finite", *num2)]
    assert "found NaN (not a number)" in found[("number-not-finite", *text)]
    msg = found[("control-character", *text2)]
    assert "the control character U+0007 at character 12 of 'before ring\\x07bell after'" \
        in msg
    assert not rep.valid and read is not None


def _foreign(workspace, tmp_path):
    """A small foreign template: text, number and date cells mapped through a datamap."""
    from deliverypack.returns.foreign import add_template

    wb = Workbook()
    sh = wb.active
    sh.title = "Return"
    for r, label in enumerate(["Department", "Narrative", "Cost", "Spend", "Name"], 1):
        sh.cell(row=r, column=1, value=label)
    blank = tmp_path / "blank.xlsx"
    wb.save(blank)
    dm = tmp_path / "map.csv"
    dm.write_text("cell_key,template_sheet,cellreference,type,maps_to\n"
                  "Department,Return,B1,TEXT,department\nNarrative,Return,B2,TEXT,\n"
                  "Cost,Return,B3,NUMBER,\nSpend,Return,B4,NUMBER,\nName,Return,B5,TEXT,\n")
    add_template(workspace, "SMALL", blank, dm)
    return wb


def test_foreign_templates_report_odd_values_as_our_own_do(workspace, tmp_path):
    wb = _foreign(workspace, tmp_path)
    sh = wb["Return"]
    sh["B1"], sh["B2"], sh["B3"] = "DH", 0.125, 0.5
    sh["B4"] = "=B3*2"  # openpyxl saves a formula without its value, as a program would
    sh["B5"] = "SENTINEL"
    f = tmp_path / "DH-2003-12.xlsx"
    wb.save(f)
    f = _patched(f, tmp_path / "a.xlsx", b"<v>0.125</v>", b"<v>NaN</v>")
    f = _patched(f, tmp_path / "b.xlsx", b"<v>0.5</v>", b"<v>INF</v>")
    f = _patched(f, tmp_path / "DH-2003-12-odd.xlsx", b"SENTINEL", b"A_x001B_B")
    rep = ingest_file(workspace, f, template="SMALL")
    got = {(i.code, i.cell): i for i in rep.issues}
    assert set(got) == {("number-not-finite", "B2"), ("number-not-finite", "B3"),
                        ("formula-no-value", "B4"), ("control-character", "B5")}
    assert all(i.severity == "error" and i.sheet == "Return" for i in got.values())
    assert "=B3*2" in got[("formula-no-value", "B4")].message
    assert rep.status == "rejected" and rep.kept
    assert not workspace.ledger.query("SELECT * FROM foreign_values")


def test_a_workbook_open_in_excel_reads_odd_values_the_same_way():
    """The Excel add-in's path (grids of values, no file): the same codes."""
    from deliverypack.validation.cells import At, read_number, read_text

    book = BookValues.from_grids({"S": [[float("nan"), "a\x0bb", float("inf"), 2.0]]}, {})
    out: list = []
    at = At(sheet="S", cell="A1")
    assert read_number(book.value("S", 1, 1), at, out) is None
    assert read_text(book.value("S", 1, 2), at, out) is None
    assert read_text(book.value("S", 1, 3), at, out) is None
    assert read_number(book.value("S", 1, 4), at, out) == 2.0
    assert [i.code for i in out] == ["number-not-finite", "control-character",
                                     "number-not-finite"]


def test_genuine_workbooks_pass_the_package_checks(workspace, filled):
    """No false alarm: our own return and the real DfT workbooks (macros, comments,
    shared strings, Excel's own XML) are sound packages."""
    from conftest import FIXTURES
    from deliverypack.validation.read import check_package

    files = [filled("DH"), *sorted((FIXTURES / "dft-bicc-return").glob("*.xls*"))]
    for f in files:
        data = f.read_bytes()
        check_package(zipfile.ZipFile(f), data)  # raises PackageDamaged on a false alarm


def test_measuring_a_long_sheet_takes_memory_that_does_not_grow_with_it(workspace, filled,
                                                                         tmp_path):
    """300,000 rows typed below a table: the sheet is measured in pieces and refused at the
    first piece beyond its bounds, its XML never held whole (13 MB here)."""
    import tracemalloc

    good = filled("DH")
    sheet = next(s.name for s in workspace.ledger.template(validate_file(workspace,
                                                                         good)[0].template_id)
                 .sheets if s.name != "Cover")
    part = part_of(good, sheet)
    rows = b"".join(b'<row r="%d"><c r="B%d"><v>%d</v></c></row>' % (r, r, r)
                    for r in range(5001, 305001))
    long = rewrite(good, tmp_path / "long.xlsx", lambda n, d: d.replace(
        b"</sheetData>", rows + b"</sheetData>") if n == part else d)
    peaks = []
    for f in (good, long):
        tracemalloc.start()
        try:
            rep, _ = validate_file(workspace, f)
            peaks.append(tracemalloc.get_traced_memory()[1])
        finally:
            tracemalloc.stop()
    assert [(i.code, i.sheet) for i in rep.errors] == [("sheet-too-large", sheet)]
    assert peaks[1] < peaks[0] + 12_000_000, peaks


@pytest.mark.parametrize("case", ["malformed-sheet-xml", "understated-size", "link-member"])
def test_a_damaged_blank_is_not_added_as_a_foreign_template(workspace, tmp_path, case):
    """The same checks guard `template add`: one line naming the file and the part."""
    wb = Workbook()
    wb.active.title = "Return"
    wb.active["A1"] = "Cost"
    good = tmp_path / "good.xlsx"
    wb.save(good)
    build, code, words = CASES[case]
    part = part_of(good, "Return")
    bad = build(good, tmp_path / "blank.xlsx", part)
    dm = tmp_path / "map.csv"
    dm.write_text("cell_key,template_sheet,cellreference,type,maps_to\nCost,Return,B1,"
                  "NUMBER,\n")
    r = cli("template", "add", "SMALL", "--blank", str(bad), "--datamap", str(dm), "-w",
            str(workspace.root))
    assert r.returncode == 1 and "Traceback" not in r.stderr, r.stderr[-3000:]
    line = " ".join(r.stderr.split())
    assert line.startswith("Error: the template was not added (1 problem(s)): - blank.xlsx: "
                           "expected a sound workbook package, found "), line
    for w in words:
        assert w.format(p=part).replace("'Cover'", "'Return'") in line
    assert not (workspace.root / "foreign" / "SMALL").exists()


def test_ingesting_a_return_with_nan_writes_its_feedback_and_exits_1(workspace, filled, tmp_path):
    """openpyxl cannot load a NaN value: the feedback workbook lists the problems alone
    rather than ending the ingest in a traceback after the ledger row was written."""
    from openpyxl import load_workbook

    p = filled("DH")
    spec = spec_of(workspace, p)
    traj = block(spec, "traj")
    k = next(k for k, r in enumerate(traj.rows) if "actual" in r.inputs)
    sheet, cell = where(p, traj.name, k, "actual", spec)
    f = edit(p, tmp_path / "e.xlsx", {(sheet, cell): 0.5})
    f = _patched(f, tmp_path / "DH-2002-12.xlsx", b"<v>0.5</v>", b"<v>NaN</v>")
    r = cli("ingest", str(f), "-w", str(workspace.root), "--json")
    assert r.returncode == 1 and "Traceback" not in r.stderr, r.stderr[-3000:]
    [x] = json.loads(r.stdout)
    assert x["status"] == "rejected" and x["feedback"]
    wb = load_workbook(x["feedback"])
    rows = [[c.value for c in row] for row in wb["Problems"].iter_rows(min_row=5)]
    assert [r_[2:4] for r_ in rows] == [[sheet, cell]]
    assert "NaN (not a number)" in rows[0][4]


# ----------------------------------------------------------------------------- contained
def encrypted_flag(src: Path, dst: Path, part: str) -> Path:
    """A copy whose `part` is flagged encrypted (general-purpose bit 0, in its local header
    and its directory entry): zipfile will not open it without a password."""
    b = bytearray(src.read_bytes())
    with zipfile.ZipFile(src) as z:
        local = z.getinfo(part).header_offset
    central = b.find(b"PK\x01\x02")
    while b[central + 46:central + 46 + struct.unpack_from("<H", b, central + 28)[0]] \
            != part.encode():
        central = b.find(b"PK\x01\x02", central + 4)
    for at in (local + 6, central + 8):
        struct.pack_into("<H", b, at, struct.unpack_from("<H", b, at)[0] | 0x1)
    dst.write_bytes(bytes(b))
    return dst


def test_a_part_flagged_encrypted_is_refused_naming_it(workspace, filled, tmp_path):
    good = filled("DH")
    cover = part_of(good, "Cover")
    bad = encrypted_flag(good, tmp_path / "locked.xlsx", cover)
    with zipfile.ZipFile(bad) as z, pytest.raises(RuntimeError, match="password required"):
        z.read(cover)  # the damage is real: the zip reader refuses it
    rep, read = validate_file(workspace, bad)
    assert read is None
    assert [(i.code, i.file) for i in rep.errors] == [("package-damaged", "locked.xlsx")]
    assert f"the part {cover} encrypted (a password-protected workbook)" in \
        rep.errors[0].message
    r = cli("validate", str(bad), "-w", str(workspace.root))
    assert r.returncode == 1 and "Traceback" not in r.stderr + r.stdout
    assert "password-protected" in r.stdout
    datamap = tmp_path / "map.csv"
    datamap.write_text("cell_key,template_sheet,cellreference,type,maps_to\n"
                       "Name,Cover,B2,TEXT,\n")
    r = cli("template", "add", "LOCKED", "--blank", str(bad), "--datamap", str(datamap),
            "-w", str(workspace.root))
    assert r.returncode == 1 and "Traceback" not in r.stderr + r.stdout, r.stderr
    assert "password-protected" in " ".join(r.stderr.split())
    assert not (workspace.root / "foreign" / "LOCKED").exists()


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_an_encrypted_part_in_the_middle_of_a_batch_costs_only_itself(workspace, filled,
                                                                     tmp_path, jobs):
    from bookkit import assert_batch

    good = filled("DH")
    files = copies(good, tmp_path / "inbox", 20)
    encrypted_flag(files[10], files[10].with_suffix(".tmp"), part_of(good, "Cover")
                   ).replace(files[10])
    r = cli("ingest", str(tmp_path / "inbox"), "-w", str(workspace.root), "--json",
            "--jobs", jobs)
    assert "Traceback" not in r.stderr, r.stderr[-2000:]
    assert_batch(workspace, r, files, {10: "package-damaged"})


def _raising_env(mark: str) -> dict:
    return {"PYTHONPATH": os.pathsep.join([str(FAULTS),
                                           os.environ.get("PYTHONPATH", "")]),
            "DP_FAULT_RAISE_MARK": mark}


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_an_unforeseen_exception_on_one_file_costs_only_that_file(workspace, filled, tmp_path,
                                                                  jobs):
    """Any exception while examining one file (here one injected into a check of ours,
    after a sound read) rejects that file with reader-crashed naming it and what failed;
    the batch goes on, on the serial and the parallel path, and in validate."""
    from bookkit import assert_batch

    mark = "raise-an-unforeseen-fault-here"
    good = filled("DH")
    files = copies(good, tmp_path / "inbox", 20)
    rewrite(files[7], files[7].with_suffix(".tmp"), lambda n, d: d.replace(
        b"</cp:coreProperties>", f"<dc:subject>{mark}</dc:subject></cp:coreProperties>"
        .encode()) if n == "docProps/core.xml" else d, stored=("docProps/core.xml",)
    ).replace(files[7])
    env = _raising_env(mark)
    r = cli("ingest", str(tmp_path / "inbox"), "-w", str(workspace.root), "--json",
            "--jobs", jobs, env=env)
    assert "Traceback" not in r.stderr, r.stderr[-2000:]
    assert_batch(workspace, r, files, {7: "reader-crashed"})
    bad = json.loads(r.stdout)[7]["issues"][0]
    assert "LookupError: an unforeseen fault on this file" in bad["message"]
    v = cli("validate", str(files[6]), str(files[7]), str(files[8]), "-w",
            str(workspace.root), "--json", env=env)
    assert v.returncode == 1 and "Traceback" not in v.stderr, v.stderr[-2000:]
    assert [x["status"] for x in json.loads(v.stdout)] == ["accepted", "rejected", "accepted"]


def test_an_unforeseen_exception_in_the_library_is_reported_not_raised(workspace, filled,
                                                                       tmp_path, monkeypatch):
    """The same, in process: ingest_files and validate_file return a report for the file."""
    from deliverypack.returns import ingest as ingest_mod

    files = copies(filled("DH"), tmp_path / "inbox", 3)
    real = ingest_mod.history_warnings

    def broken(led, reg, read):
        if read.spec.department and broken.calls == 1:
            broken.calls += 1
            raise KeyError("boom")
        broken.calls += 1
        return real(led, reg, read)
    broken.calls = 0
    monkeypatch.setattr(ingest_mod, "history_warnings", broken)
    reps = ingest_mod.ingest_files(workspace, files)
    assert [r.status for r in reps] == ["accepted", "rejected", "accepted"]
    assert reps[1].errors[0].code == "reader-crashed" and "KeyError" in reps[1].errors[0].message
    assert reps[1].kept  # recorded as rejected, its bytes archived


@pytest.mark.parametrize("count", ["honest", "understated"])
def test_a_package_of_too_many_parts_is_refused_from_its_directory(workspace, filled, tmp_path,
                                                                   count):
    """A workbook the templates make has a few dozen parts; one just over the limit (empty
    junk parts) is refused naming the count and the limit, whether its end record says
    how many there are or understates it."""
    from deliverypack.returns.intake import MAX_PARTS

    good = filled("DH")
    bad = rewrite(good, tmp_path / "many.xlsx", lambda n, d: d)
    with zipfile.ZipFile(bad) as z:
        have = len(z.infolist())
    with zipfile.ZipFile(bad, "a", zipfile.ZIP_STORED) as z:
        for k in range(MAX_PARTS + 1 - have):
            z.writestr(f"c/{k}", b"")
    if count == "understated":  # the end record's two counts say 40
        b = bytearray(bad.read_bytes())
        end = b.rfind(b"PK\x05\x06")
        struct.pack_into("<2H", b, end + 8, 40, 40)
        bad.write_bytes(bytes(b))
    rep, read = validate_file(workspace, bad)
    assert read is None
    assert [i.code for i in rep.errors] == ["package-damaged"]
    assert f"{MAX_PARTS + 1:,} parts in the package, more than the {MAX_PARTS:,}" in \
        rep.errors[0].message
    assert rep.errors[0].file == "many.xlsx"


ABORT_MARK = "abort-the-reader-here"


def _aborting(src: Path, dst: Path) -> Path:
    """A copy whose bytes make the reader abort (SIGABRT) under the fault injection, as a
    crash inside python-calamine would."""
    return rewrite(src, dst, lambda n, d: d.replace(
        b"</cp:coreProperties>", f"<dc:subject>{ABORT_MARK}</dc:subject>"
        "</cp:coreProperties>".encode()) if n == "docProps/core.xml" else d,
        stored=("docProps/core.xml",))


def _abort_env() -> dict:
    return {"PYTHONPATH": os.pathsep.join([str(FAULTS), os.environ.get("PYTHONPATH", "")]),
            "DP_FAULT_ABORT_MARK": ABORT_MARK}


def _no_crash_said(r) -> None:
    for text in (r.stdout, r.stderr):
        for word in ("Traceback", "Aborted", "core dumped", "BrokenProcessPool"):
            assert word not in text, text[-2000:]


def test_validate_of_one_file_that_crashes_the_reader_rejects_it_by_name(workspace, filled,
                                                                         tmp_path):
    """`validate FILE` reads in a worker process: a file that aborts the reader is rejected
    with reader-crashed naming it, exit 1, and nothing is kept; beside it, a sound file is
    accepted."""
    bad = _aborting(filled("DH"), tmp_path / "DH-crashing.xlsx")
    r = cli("validate", str(bad), "-w", str(workspace.root), env=_abort_env())
    assert r.returncode == 1 and r.stderr == "", r.stderr[-2000:]
    _no_crash_said(r)
    assert r.stdout.startswith("REJECTED DH-crashing.xlsx") and "reader-crashed" in r.stdout
    assert "the reading process ended abruptly" in " ".join(r.stdout.split())
    good = filled("HO")
    r = cli("validate", str(bad), str(good), "-w", str(workspace.root), "--json",
            env=_abort_env())
    assert r.returncode == 1, r.stderr[-2000:]
    _no_crash_said(r)
    out = json.loads(r.stdout)
    assert [(Path(x["file"]).name, x["status"]) for x in out] == [
        ("DH-crashing.xlsx", "rejected"), (good.name, "accepted")]
    assert [i["code"] for i in out[0]["issues"]] == ["reader-crashed"]
    assert not any(workspace.archive.glob("*.xlsx*"))  # validate keeps nothing
    assert workspace.ledger.query("SELECT count(*) FROM submissions")[0][0] == 0


def test_ingest_of_one_file_that_crashes_the_reader_rejects_it_by_name(workspace, filled,
                                                                       tmp_path):
    """`ingest FILE` of a single file reads in a worker process too: rejected with
    reader-crashed, recorded as rejected with its bytes archived, exit 1; the workspace
    goes on (the next file is ingested)."""
    bad = _aborting(filled("DH"), tmp_path / "DH-crashing.xlsx")
    r = cli("ingest", str(bad), "-w", str(workspace.root), "--json", env=_abort_env())
    assert r.returncode == 1 and r.stderr == "", r.stderr[-2000:]
    _no_crash_said(r)
    [x] = json.loads(r.stdout)
    assert (Path(x["file"]).name, x["status"]) == ("DH-crashing.xlsx", "rejected")
    assert [i["code"] for i in x["issues"]] == ["reader-crashed"]
    rows = workspace.ledger.query("SELECT file_name, status, archive_path FROM submissions")
    assert [tuple(r_)[:2] for r_ in rows] == [("DH-crashing.xlsx", "rejected")]
    assert (workspace.root / rows[0]["archive_path"]).read_bytes() == bad.read_bytes()
    r = cli("ingest", str(filled("HO")), "-w", str(workspace.root), env=_abort_env())
    assert r.returncode == 0 and r.stdout.startswith("ACCEPTED HO-2002-12.xlsx"), r.stderr


def test_validate_files_says_what_validate_file_says_and_writes_nothing(workspace, filled,
                                                                        tmp_path):
    """Reading in a worker changes no verdict: the same issues, cell by cell, as reading in
    process (a sound return and one with an error); nothing is archived."""
    from deliverypack.returns.ingest import validate_files

    spec = spec_of(workspace, filled("DfES"))
    traj = block(spec, "traj")
    i = next(k for k, r in enumerate(traj.rows) if "actual" in r.inputs)
    wrong = filled("DfES", overrides={(traj.name, i, "actual"): "n/a"})
    files = [filled("HO"), wrong]
    seen: list[str] = []
    reports = validate_files(workspace, files, progress=lambda r: seen.append(r.file))
    assert seen == [f.name for f in files]
    assert [r.flatten(("code", "sheet", "cell")) for r in reports] == [
        validate_file(workspace, f)[0].flatten(("code", "sheet", "cell")) for f in files]
    assert [r.status for r in reports] == ["accepted", "rejected"]
    assert "not-a-number" in [i.code for i in reports[1].issues]
    assert not any(workspace.archive.glob("*.xlsx*"))
