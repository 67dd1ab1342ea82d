"""File-level checks that run before any cell is read.

A return arrives from outside the unit, so it is treated as hostile until shown otherwise:
the bytes are hashed, the container is inspected without extracting it, and anything that
is not a plain workbook (old .xls, encrypted, zip bombs, XML entity tricks, macros or
external links added to one of our templates) is refused. No macro is ever run.

The file is read once: the bytes hashed are the bytes checked, read and archived, so a
file changed on disk during ingest cannot be recorded under another file's hash.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import stat
import struct
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from ..validation.cells import At
from ..validation.issues import Issue

MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_PART_BYTES = 200 * 1024 * 1024
MAX_TOTAL_BYTES = 500 * 1024 * 1024
MAX_RATIO = 150  # a real sheet compresses 5-20x; a bomb 1000x
# A workbook our templates make holds a few dozen parts; Excel's largest, a few thousand.
# Each part costs a directory entry to list and a check to pass, so a package of 400,000
# empty parts is refused from its directory's count, before anything else is read.
MAX_PARTS = 10_000
PROLOGUE_BYTES = 4096  # every genuine part opens its root element well within this
OLE2 = bytes.fromhex("D0CF11E0A1B11AE1")
_ROOT = re.compile(rb"<[A-Za-z_]")
_DTD = re.compile(rb"<!(DOCTYPE|ENTITY)", re.IGNORECASE)
_LOCAL = struct.Struct("<4s2B4HL2L2H")  # a zip local file header (APPNOTE.TXT 4.3.7)


@dataclass
class Intake:
    path: Path
    sha256: str = ""
    size: int = 0
    issues: list[Issue] = field(default_factory=list)
    parts: list[str] = field(default_factory=list)
    has_macros: bool = False
    data: bytes = b""  # the bytes hashed and checked
    zip: zipfile.ZipFile | None = None  # open over `data`, once the container is sound

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
        kind = _special(os.lstat(path).st_mode)
        data = None if kind else _read_regular(path, res)
    except OSError as exc:
        res.issues.append(at.issue("file-unreadable", found=exc.strerror or str(exc)))
        return res
    if kind:
        res.issues.append(at.issue("not-a-regular-file", found=kind))
        return res
    if data is None:
        res.issues.append(at.issue("file-too-large", found=f"{res.size:,} bytes",
                                   expected=f"{MAX_FILE_BYTES:,} bytes"))
        return res
    res.sha256 = hashlib.sha256(data).hexdigest()
    res.data = data
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
    declared = _declared_parts(data)
    if declared is not None and declared > MAX_PARTS:
        res.issues.append(_too_many_parts(at, declared))
        return res
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        _check_zip(zf, data, res, at, allow_macros)
    except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError) as exc:
        res.issues.append(at.issue("not-a-workbook", found=f"a damaged zip archive ({exc})"))
        return res
    except Exception as exc:  # anything else the zip reader raises is about this file
        res.issues.append(at.issue("reader-crashed", found=crash_text(exc)))
        return res
    if not res.refused:
        res.zip = zf
    return res


def crash_text(exc: BaseException) -> str:
    """What a reader raised, in a line: its kind and first words (never a traceback)."""
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text[:200]}" if text else type(exc).__name__


def _too_many_parts(at: At, n: int) -> Issue:
    return at.issue("package-damaged", found=f"{n:,} parts in the package, more than the "
                    f"{MAX_PARTS:,} a workbook may hold", expected=f"at most {MAX_PARTS:,}")


_EOCD = struct.Struct("<4s4H2LH")  # end of central directory (APPNOTE.TXT 4.3.16)
_EOCD64_LOCATOR = struct.Struct("<4sLQL")
_EOCD64 = struct.Struct("<4sQ2H2L4Q")


def _declared_parts(data: bytes) -> int | None:
    """How many parts the package's directory says it holds, from its end record alone
    (None when there is no such record: zipfile then says what is wrong)."""
    at = data.rfind(b"PK\x05\x06", max(0, len(data) - _EOCD.size - 65535))
    if at < 0 or len(data) < at + _EOCD.size:
        return None
    total = _EOCD.unpack_from(data, at)[4]
    loc = at - _EOCD64_LOCATOR.size
    if total == 0xFFFF and loc >= 0 and data[loc:loc + 4] == b"PK\x06\x07":
        where = _EOCD64_LOCATOR.unpack_from(data, loc)[2]
        if 0 <= where <= len(data) - _EOCD64.size and data[where:where + 4] == b"PK\x06\x06":
            total = _EOCD64.unpack_from(data, where)[6]
    return int(total)


def _special(mode: int) -> str:
    """What a path is when it is not a regular file ('' when it is one)."""
    if stat.S_ISREG(mode):
        return ""
    return ("a symbolic link" if stat.S_ISLNK(mode) else "a folder" if stat.S_ISDIR(mode)
            else "a named pipe (FIFO)" if stat.S_ISFIFO(mode) else "a socket"
            if stat.S_ISSOCK(mode) else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
            else "a special file")


def _read_regular(path: Path, res: Intake) -> bytes | None:
    """The file's bytes, read through a descriptor that cannot follow a link or wait on a
    pipe swapped in after the check; None when it is over MAX_FILE_BYTES."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    with os.fdopen(fd, "rb") as fh:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise OSError(0, f"{_special(st.st_mode)} swapped in while reading")
        res.size = st.st_size
        if st.st_size > MAX_FILE_BYTES:
            return None
        data = fh.read(MAX_FILE_BYTES + 1)
    res.size = len(data)
    return None if len(data) > MAX_FILE_BYTES else data


def _check_zip(zf: zipfile.ZipFile, data: bytes, res: Intake, at: At, allow_macros: bool
               ) -> None:
    infos = zf.infolist()
    res.parts = [i.filename for i in infos]
    if len(infos) > MAX_PARTS:  # a directory whose end record understates its count
        res.issues.append(_too_many_parts(at, len(infos)))
        return
    total = 0
    for info in infos:
        name = info.filename
        if info.flag_bits & 0x1:  # zipfile cannot open it without a password
            res.issues.append(at.issue("package-damaged", found=f"the part {name} encrypted "
                                       "(a password-protected workbook)"))
            return
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
            problem = _xml_prologue_problem(zf, info, data)
            if problem:
                res.issues.append(at.issue("unsafe-xml", found=f"{problem} in {info.filename}"))
                return


def _xml_prologue_problem(zf: zipfile.ZipFile, info: zipfile.ZipInfo, data: bytes) -> str:
    """A DTD or entity must come before the root element, so reading the prologue suffices."""
    head = _part_head(zf, info, data)
    m = _ROOT.search(head)
    prologue = head[: m.start()] if m else head
    if _DTD.search(prologue):
        return "a DTD or entity declaration"
    if not m and len(head) == PROLOGUE_BYTES:
        return "an oversized XML prologue"
    return ""


def _part_head(zf: zipfile.ZipFile, info: zipfile.ZipInfo, data: bytes) -> bytes:
    """The first PROLOGUE_BYTES of a part. Inflated straight from the archive's bytes (a
    tenth of the cost of opening the part through zipfile, which matters for a small
    return); any other compression goes through zipfile."""
    at = info.header_offset
    header = data[at:at + _LOCAL.size]
    if len(header) == _LOCAL.size and info.compress_type in (
            zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED) and not info.flag_bits & 0x1:
        fields = _LOCAL.unpack(header)
        if fields[0] == b"PK\x03\x04":
            start = at + _LOCAL.size + fields[10] + fields[11]  # + name and extra lengths
            raw = data[start:start + min(info.compress_size, 4 * PROLOGUE_BYTES)]
            if info.compress_type == zipfile.ZIP_STORED:
                return raw[:PROLOGUE_BYTES]
            try:
                return zlib.decompressobj(-zlib.MAX_WBITS).decompress(raw, PROLOGUE_BYTES)
            except zlib.error:
                pass  # let zipfile say what is wrong with it
    with zf.open(info) as fh:
        return fh.read(PROLOGUE_BYTES)
