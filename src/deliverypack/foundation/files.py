"""Atomic output and text-only cell writes, shared by every writer."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from .errors import OutputLocked


@contextlib.contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path beside `target`; on success it replaces `target` in one step.

    A crash leaves the old file or the new one, never half of one.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=target.suffix + ".tmp",
                               dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        with open(tmp_path, "rb") as fh:
            os.fsync(fh.fileno())
        try:
            os.replace(tmp_path, target)
        except PermissionError as exc:
            raise OutputLocked(
                f"cannot replace {target}: is it open in Excel, PowerPoint or Word? "
                "Close it and run the command again.") from exc
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def atomic_write(target: Path, write: Callable[[Path], None]) -> Path:
    """Call write(tmp) and move the result into place atomically."""
    with atomic_path(target) as tmp:
        write(tmp)
    return Path(target)


def replace_bytes(path: Path, data: bytes) -> None:
    """Write small bytes beside `path` and rename them over it: a reader sees the old file or
    the new one (no fsync: for records that can be re-made, such as journals)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.partial")
    try:
        tmp.write_bytes(data)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


def write_text_cell(cell, text: str | None) -> None:
    """Store text in an openpyxl cell exactly as typed; never let it become a formula."""
    cell.value = text
    if isinstance(text, str) and text.startswith("="):
        cell.data_type = "s"
