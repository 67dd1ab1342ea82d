"""Word documents from docxtpl templates: one render path for minutes, packs and reports.

Rendered with autoescape on, so text from returns ('R&D <draft>') reaches the page as
typed; written atomically.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from docxtpl import DocxTemplate, RichText

from ..foundation.errors import UsageError
from ..foundation.files import atomic_path
from .word_templates import FOLDER

# The deck's RAG style (outputs/deck.py RAG_RGB, RAG_TEXT): white bold letters on green and
# red, black on the light amber/green and amber, so a letter reads in colour and in greyscale.
RAG_HEX = {"G": "00B050", "AG": "C4D79B", "AR": "FFC000", "R": "FF0000"}
RAG_INK = {"G": "FFFFFF", "AG": "000000", "AR": "000000", "R": "FFFFFF"}


def rag_text(code: str | None) -> RichText:
    """A RAG letter as it is set in every paper: bold, in the ink that reads on its fill."""
    rt = RichText()
    rt.add(code or "–", bold=True, color=RAG_INK.get(code or "", "000000"))
    return rt


def template(name: str, override: Path | None = None) -> DocxTemplate:
    path = Path(override or FOLDER / f"{name}.docx")
    if not path.exists():
        raise UsageError(f"no Word template at {path}")
    return DocxTemplate(str(path))


def render(tpl: DocxTemplate, context: dict[str, Any], target: Path) -> Path:
    missing = tpl.get_undeclared_template_variables() - set(context)
    if missing:
        raise UsageError(f"the Word template needs values it was not given: "
                         f"{', '.join(sorted(missing))}")
    tpl.render(context, autoescape=True)
    with atomic_path(target) as tmp:
        tpl.save(str(tmp))
    return target
