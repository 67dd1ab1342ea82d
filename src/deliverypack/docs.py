"""Documentation generated from the code, so it cannot drift: the validation codes."""

from __future__ import annotations

import re
from pathlib import Path

from .validation.issues import CATALOGUE

BEGIN, END = "<!-- codes:begin -->", "<!-- codes:end -->"


def codes_table() -> str:
    lines = ["| code | severity | what it means |", "|---|---|---|"]
    for t in CATALOGUE.values():
        lines.append(f"| `{t.code}` | {t.severity} | {t.description} |")
    return "\n".join(lines)


def update_readme(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    new = re.sub(f"{re.escape(BEGIN)}.*?{re.escape(END)}",
                 f"{BEGIN}\n{codes_table()}\n{END}", text, flags=re.S)
    path.write_text(new, encoding="utf-8")


if __name__ == "__main__":
    update_readme(Path(__file__).resolve().parents[2] / "README.md")
