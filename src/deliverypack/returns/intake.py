"""File-level checks that run before any cell is read.

A return arrives from outside the unit, so it is treated as hostile until shown otherwise:
the bytes are hashed, the container is inspected without extracting it, and anything that
is not a plain workbook (old .xls, encrypted, zip bombs, XML entity tricks, macros or
external links added to one of our templates) is refused. No macro is ever run.
"""

from __future__ import annotations

import hashlib
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from ..validation.cells import At
from ..validation.issues import Issue

MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_PART_BYTES = 200 * 1024 * 1024
MAX_TOTAL_BYTES = 500 * 1024 * 1024
MAX_RATIO = 150  # a real sheet compresses 5-20x; a bomb 1000x
PROLOGUE_BYTES = 4096  # every genuine part opens its root element well within this
OLE2 = bytes.fromhex("D0CF11E0A1B11AE1")
_ROOT = re.compile(rb"<[A-Za-z_]")
_DTD = re.compile(rb"<!(DOCTYPE|ENTITY)", re.IGNORECASE)


@dataclass
class Intake:
    path: Path
    sha256: str = ""
    size: int = 0
    issues: list[Issue] = field(default_factory=list)
    parts: list[str] = field(default_factory=list)
    has_macros: bool = False

    @property
    def refused(self) -> bool:
        return any(i.severity == "error" for i in self.issues)


def _describe(head: bytes) -> str:
    if head.startswith(b"%PDF"):
        return "a PDF document"
    if head.startswith(b"PK"):
        return "a zip archive that is not a workbook"
    if head[:1] in (b"{", b"["):
        return "a JSON file"
    try:
        head.decode("utf-8")
        return "a text file (CSV or similar)"
    except UnicodeDecodeError:
        return "a file of an unknown kind"


def inspect(path: Path, *, allow_macros: bool = False) -> Intake:
    """Hash the file and check its container; every refusal is an Issue, never an exception."""
    path = Path(path)
    res = Intake(path=path)
    at = At(sheet="", cell="", file=path.name)
    try:
        data = path.read_bytes() if path.stat().st_size <= MAX_FILE_BYTES else None
        res.size = path.stat().st_size
    except OSError as exc:
        res.issues.append(at.issue("file-unreadable", found=exc.strerror or str(exc)))
        return res
    if data is None:
        res.issues.append(at.issue("file-too-large", found=f"{res.size:,} bytes",
                                   expected=f"{MAX_FILE_BYTES:,} bytes"))
        return res
    res.sha256 = hashlib.sha256(data).hexdigest()
    if not data:
        res.issues.append(at.issue("file-unreadable", found="the file is empty"))
        return res
    if data.startswith(OLE2):
        # An encrypted .xlsx is an OLE2 container holding an EncryptionInfo stream.
        if "EncryptionInfo".encode("utf-16-le") in data:
            res.issues.append(at.issue("encrypted"))
        else:
            res.issues.append(at.issue("legacy-xls"))
        return res
    if not data.startswith(b"PK\x03\x04"):
        res.issues.append(at.issue("not-a-workbook", found=_describe(data[:512])))
        return res
    try:
        with zipfile.ZipFile(path) as zf:
            _check_zip(zf, res, at, allow_macros)
    except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError) as exc:
        res.issues.append(at.issue("not-a-workbook", found=f"a damaged zip archive ({exc})"))
    return res


def _check_zip(zf: zipfile.ZipFile, res: Intake, at: At, allow_macros: bool) -> None:
    infos = zf.infolist()
    res.parts = [i.filename for i in infos]
    total = 0
    for info in infos:
        name = info.filename
        if name.startswith(("/", "\\")) or ".." in name.split("/") or ":" in name:
            res.issues.append(at.issue("unsafe-zip-entry", found=repr(name)))
            return
        total += info.file_size
        if info.file_size > MAX_PART_BYTES:
            res.issues.append(at.issue("file-too-large", found=f"part {name} of "
                                       f"{info.file_size:,} bytes",
                                       expected=f"{MAX_PART_BYTES:,} bytes a part"))
            return
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > 1024 * 1024 and ratio > MAX_RATIO:
            res.issues.append(at.issue("zip-bomb", found=f"part {name} expands {ratio:,.0f} "
                                       "times"))
            return
    if total > MAX_TOTAL_BYTES:
        res.issues.append(at.issue("zip-bomb", found=f"{total:,} bytes when expanded"))
        return
    names = set(res.parts)
    if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
        kind = ("a Word document" if "word/document.xml" in names else
                "a PowerPoint file" if "ppt/presentation.xml" in names else
                "a zip archive that is not a workbook")
        res.issues.append(at.issue("not-a-workbook", found=kind))
        return
    macro_parts = [n for n in res.parts if n.lower().endswith("vbaproject.bin")]
    if macro_parts:
        res.has_macros = True
        res.issues.append(at.issue("macros-ignored" if allow_macros else "macros-present",
                                   found=macro_parts[0]))
    links = [n for n in res.parts if n.startswith("xl/externalLinks/")]
    if links:
        res.issues.append(at.issue("external-links", found=f"{len(links)} linked file(s)"))
    for info in infos:
        if info.filename.endswith((".xml", ".rels", ".vml")):
            problem = _xml_prologue_problem(zf, info)
            if problem:
                res.issues.append(at.issue("unsafe-xml", found=f"{problem} in {info.filename}"))
                return


def _xml_prologue_problem(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> str:
    """A DTD or entity must come before the root element, so reading the prologue suffices."""
    with zf.open(info) as fh:
        head = fh.read(PROLOGUE_BYTES)
    m = _ROOT.search(head)
    prologue = head[: m.start()] if m else head
    if _DTD.search(prologue):
        return "a DTD or entity declaration"
    if not m and len(head) == PROLOGUE_BYTES:
        return "an oversized XML prologue"
    return ""
