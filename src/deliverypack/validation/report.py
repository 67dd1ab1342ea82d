"""The result of checking one file: valid or not, every issue, and what happened to it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .issues import Issue


@dataclass
class FileReport:
    file: str
    path: Path
    kind: str = ""
    department: str = ""
    round: str = ""
    template_id: str = ""
    sha256: str = ""
    size: int = 0
    issues: list[Issue] = field(default_factory=list)
    kept: bool = False  # recorded in the ledger
    duplicate: bool = False
    superseded: int | None = None
    submission_id: int | None = None
    feedback: Path | None = None

    @property
    def valid(self) -> bool:
        return not any(i.severity == "error" for i in self.issues)

    @property
    def status(self) -> str:
        return "accepted" if self.valid else "rejected"

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == "error"]

    @property
    def warnings(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == "warning"]

    def flatten(self, fields: list[str] | tuple[str, ...] = ("code", "sheet", "cell")
                ) -> list[list[Any]]:
        """Issues as rows of the named fields, so a test says what broke in one line."""
        return [[getattr(i, f) for f in fields] for i in self.issues]

    def codes(self) -> set[str]:
        return {i.code for i in self.issues}

    def to_json(self) -> dict[str, Any]:
        return {
            "file": str(self.path),
            "status": self.status,
            "department": self.department,
            "round": self.round,
            "kind": self.kind,
            "sha256": self.sha256,
            "duplicate": self.duplicate,
            "feedback": str(self.feedback) if self.feedback else None,
            "issues": [{"code": i.code, "severity": i.severity, "sheet": i.sheet,
                        "cell": i.cell, "found": i.found, "expected": i.expected,
                        "message": i.text()} for i in self.issues],
        }
