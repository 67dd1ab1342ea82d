"""Fitting text into fixed boxes: shorten with an ellipsis, split long tables."""

from __future__ import annotations


def fit(text: str | None, limit: int) -> str:
    """At most `limit` characters, cut at a word with an ellipsis."""
    text = " ".join(str(text or "").split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0] or text[: limit - 1]
    return cut.rstrip(",;:.-") + "…"


def chunks(rows: list, size: int) -> list[list]:
    """Rows in pages of `size` (at least one page, even if empty)."""
    return [rows[i:i + size] for i in range(0, len(rows), size)] or [[]]
