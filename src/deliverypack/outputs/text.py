"""Fitting text into fixed boxes: shorten with an ellipsis, split long tables, measure a
heading word so no heading breaks inside it."""

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


# Advance widths (pixels at 11 pt) of DejaVu Sans Bold, which LibreOffice prints in place
# of Calibri where Calibri is not installed: the widest a heading is likely to print.
_BOLD_PX = {**dict.fromkeys("ijlIJ", 5.0), **dict.fromkeys("'’.,:;|", 5.0),
            **dict.fromkeys("frt()/-", 6.6), **dict.fromkeys("cszLEFT", 8.8),
            **dict.fromkeys("mMW%&", 14.6), "w": 12.9, **dict.fromkeys("+−=", 11.7),
            **dict.fromkeys("DGHNOQU", 11.8)}


def bold_px(word: str, pt: float = 11) -> float:
    """The printed width of a bold word in pixels (96 to the inch) at `pt` points."""
    return sum(_BOLD_PX.get(c, 10.8 if c.isupper() else 10.0) for c in word) * pt / 11
