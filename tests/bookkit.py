"""Helpers that make and change returns for the tests: package rewrites (a part changed,
cells added, distinct copies), cell edits by table row, and the real command in its own
process. Shared by unit and end-to-end tests, so they live here, not in a test module."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

from openpyxl import load_workbook

from deliverypack.validation.read import parse_ref


def rewrite(src: Path, dst: Path, change, stored: tuple[str, ...] = ()) -> Path:
    """A copy of a workbook's package with `change(name, data)` applied to every part (the
    parts named in `stored` left uncompressed)."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = change(item.filename, zin.read(item.filename))
            if data is not None:
                zout.writestr(item.filename, data, zipfile.ZIP_STORED
                              if item.filename in stored else zipfile.ZIP_DEFLATED)
    return dst


def sheet_part(src: Path, name: str) -> str:
    from deliverypack.validation.read import sheet_parts

    with zipfile.ZipFile(src) as zf:
        return sheet_parts(zf)[name]


def add_cells(src: Path, dst: Path, sheet: str, xml: bytes) -> Path:
    part = sheet_part(src, sheet)
    return rewrite(src, dst, lambda n, d: d.replace(b"</sheetData>", xml + b"</sheetData>")
                   if n == part else d)


def far_cell(src: Path, dst: Path) -> Path:
    """One cell typed at XFD1048576 on the cover: the dense read would ask for 512 GB."""
    return add_cells(src, dst, "Cover", b'<row r="1048576"><c r="XFD1048576" t="inlineStr">'
                     b'<is><t>x</t></is></c></row>')


def copies(src: Path, folder: Path, n: int, tag: str = "") -> list[Path]:
    """n distinct files (their bytes differ in a document property) of one return."""
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for k in range(n):
        def change(name, data, k=k):
            if name == "docProps/core.xml":
                return data.replace(b"</cp:coreProperties>",
                                    f"<dc:title>copy {tag}{k}</dc:title>"
                                    "</cp:coreProperties>".encode())
            return data
        out.append(rewrite(src, folder / f"{k:04d}-{src.name}", change))
    return out


def cli(*args: str, env: dict | None = None, timeout: int = 300
        ) -> subprocess.CompletedProcess:
    """The real command, in its own process, as a user runs it."""
    return subprocess.run([sys.executable, "-m", "deliverypack.cli", *args],
                          capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})


def assert_batch(workspace, r: subprocess.CompletedProcess, files: list[Path],
                 bad: dict[int, str]) -> None:
    """The batch went on around its bad files: each rejected with its code, the rest
    accepted, in the order given, and the ledger holds exactly that."""
    assert r.returncode == 1, r.stderr[-2000:]
    out = json.loads(r.stdout)
    assert [Path(x["file"]).name for x in out] == [f.name for f in files]
    for k, x in enumerate(out):
        if k in bad:
            assert x["status"] == "rejected" and x["issues"][0]["code"] == bad[k], x
            assert files[k].name in x["file"]
        else:
            assert x["status"] == "accepted", x
    rows = workspace.ledger.query("SELECT status, count(*) FROM submissions GROUP BY status")
    assert dict(map(tuple, rows)) == {"accepted": len(files) - len(bad), "rejected": len(bad)}



def where(path: Path, name: str, i: int, col: str, spec) -> tuple[str, str]:
    """(sheet, cell) of row `i`, column `col` of the table named `name`."""
    wb = load_workbook(path, read_only=False)
    rng = parse_ref(wb.defined_names[name].attr_text)
    b = next(b for _, b in spec.blocks() if b.name == name)
    j = [c.key for c in b.columns].index(col)
    return rng.sheet, f"{'ABCDEFGHIJKLMNOPQRSTUVWXYZ'[rng.c1 - 1 + j]}{rng.r1 + i}"


def edit(path: Path, out: Path, changes: dict[tuple[str, str], object]) -> Path:
    wb = load_workbook(path)
    for (sheet, cell), v in changes.items():
        wb[sheet][cell] = v
    wb.save(out)
    return out
