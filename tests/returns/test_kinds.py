"""Workbook kinds are declared in one table that ingest, validate and the add-in read: no
checks registered by importing a module for its side effect."""

from __future__ import annotations

import ast
from pathlib import Path

import deliverypack
from deliverypack.returns.ingest import KINDS, store_revisions
from deliverypack.templates.taskforce import check_meeting, store_meeting

SRC = Path(deliverypack.__file__).parent


def _imports(path: Path) -> set[str]:
    """Every deliverypack module a file imports, at the top or inside a function."""
    package = ".".join(path.relative_to(SRC.parent).with_suffix("").parts[:-1])
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level else ""
            found.add(f"{base}.{node.module}".strip(".") if node.module else base)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
    return found


def test_task_forces_do_not_import_ingest():
    assert "deliverypack.returns.ingest" not in _imports(SRC / "templates" / "taskforce.py")
    assert "deliverypack.templates.taskforce" in _imports(SRC / "returns" / "ingest.py")


def test_the_table_holds_every_kind_we_issue_and_the_meeting_steps():
    issued = set()
    for path in (SRC / "validation" / "layout.py", SRC / "templates" / "taskforce.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "WorkbookSpec":
                issued |= {k.value.value for k in node.keywords
                           if k.arg == "kind" and isinstance(k.value, ast.Constant)}
    assert issued == set(KINDS) == {"return", "org_return", "assessment", "meeting"}
    assert KINDS["meeting"].checks == (check_meeting,)
    assert KINDS["meeting"].after_ingest == (store_meeting,)
    assert KINDS["return"].after_ingest == (store_revisions,)
    assert all(not k.checks and not k.after_ingest for n, k in KINDS.items()
               if n not in ("meeting", "return"))

