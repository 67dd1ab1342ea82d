"""The files of a round's inbox folder: department returns at its top, organisations'
returns in its organisations/ folder; anything else is named as skipped, never ignored
silently. A link is never followed: a linked organisations/ folder would read (and list)
whatever folder it points to, outside the inbox."""

from __future__ import annotations

from pathlib import Path

WORKBOOKS = (".xlsx", ".xlsm")
SUBFOLDERS = ("organisations",)  # as templates are issued: outbox/ROUND/organisations/


def round_files(folder: Path, *, top: bool = True) -> tuple[list[Path], list[str]]:
    """(workbooks to read, lines saying what was skipped and why)."""
    files: list[Path] = []
    skipped: list[str] = []
    for x in sorted(Path(folder).iterdir()):
        if x.name.startswith("."):
            continue
        if x.name.startswith("~$"):
            skipped.append(f"{x}: an Excel lock file (is the workbook open?)")
        elif x.is_symlink() and (x.suffix.lower() in WORKBOOKS or top and x.name in SUBFOLDERS):
            files.append(x)  # never followed: refused, unread, as not-a-regular-file
        elif x.is_symlink():
            skipped.append(f"{x}: a symbolic link (not followed)")
        elif x.is_dir() and top and x.name in SUBFOLDERS:
            sub, sub_skipped = round_files(x, top=False)
            files += sub
            skipped += sub_skipped
        elif x.is_dir():
            where = f"only {', '.join(SUBFOLDERS)}/ is read" if top else "not read"
            skipped.append(f"{x}: a folder ({where})")
        elif x.suffix.lower() in WORKBOOKS:
            files.append(x)
        else:
            skipped.append(f"{x}: not a workbook (.xlsx)")
    return files, skipped
