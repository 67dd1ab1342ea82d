"""Reading one cell value as a returns officer meant it, or saying plainly why not.

Pure functions over raw values (as calamine, openpyxl or xlwings give them), so the same
rules serve a file on disk and a workbook open in Excel. Each appends Issues to `out` and
returns the value read (None when there is nothing usable).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from math import inf

from .issues import Issue, issue

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class At:
    """Where a value came from: the provenance every message and every ledger value carries."""

    sheet: str
    cell: str
    file: str = ""

    def issue(self, code: str, found: object = "", expected: object = "") -> Issue:
        return issue(code, sheet=self.sheet, cell=self.cell, found=found,
                     expected=expected, file=self.file)


@dataclass(frozen=True, slots=True)
class Unreadable:
    """A cell whose value cannot be taken: it shows an Excel error (#DIV/0!), or holds a
    formula whose result was never saved. The reader puts this in the cell's place, so
    every check meets it and says so, where a blank would have been read."""

    code: str  # "excel-error" or "formula-no-value"
    text: str  # the error shown, or the formula

    def __str__(self) -> str:
        return self.text


def unreadable(raw: object, at: At, out: list[Issue]) -> bool:
    """True (with its issue) when the cell holds no value that can be taken."""
    if raw.__class__ is Unreadable:
        out.append(at.issue(raw.code, found=raw.text))
        return True
    return False


def is_blank(raw: object) -> bool:
    return raw is None or (isinstance(raw, str) and raw.strip() == "")


def fmt_number(x: float) -> str:
    return f"{x:,.10g}" if abs(x) < 1e15 else str(x)


def read_text(raw: object, at: At, out: list[Issue], *, required: bool = False,
              what: str = "some text", max_len: int = 4000) -> str | None:
    """Text exactly as typed (numbers and dates shown as text); formula-like text kept as text."""
    if unreadable(raw, at, out):
        return None
    if is_blank(raw):
        if required:
            out.append(at.issue("required-missing", expected=what))
        return None
    if isinstance(raw, float) and raw.is_integer():
        text = str(int(raw))
    elif isinstance(raw, dt.datetime):
        text = raw.date().isoformat() if raw.time() == dt.time() else raw.isoformat()
    else:
        text = str(raw)
    if len(text) > max_len:
        out.append(at.issue("text-too-long", found=len(text), expected=max_len))
    if text.startswith(FORMULA_STARTS) and not _NUMERIC.match(text.strip()):
        out.append(at.issue("formula-text", found=text))
    return text


_NUMERIC = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")


def _number_from_text(text: str) -> tuple[float | None, bool]:
    """(value, was_percent) for text such as ' 42 ', '12,345', '£1,200', '98%'."""
    t = text.strip().replace("\u00a0", "").replace("£", "").replace(" ", "")
    pct = t.endswith("%")
    if pct:
        t = t[:-1]
    if _THOUSANDS.match(t):
        t = t.replace(",", "")
    if _NUMERIC.match(t):
        return float(t), pct
    return None, False


def percent_shown(points: float) -> str:
    """Percentage points as a percentage cell shows them: 160 -> '160%'."""
    return f"{points:,.10g}%"


def bound_text(lo: float | None, hi: float | None, percent: bool) -> str:
    """The limit a number must keep, in words: '0 or more', 'no more than 100%'."""
    def f(x: float) -> str:
        return percent_shown(x) if percent else fmt_number(x)
    if lo is not None and hi is not None:
        return f"from {f(lo)} to {f(hi)}"
    if lo is not None:
        return f"{f(lo)} or more"
    return f"no more than {f(hi)}" if hi is not None else "a number"


def read_number(raw: object, at: At, out: list[Issue], *, required: bool = False,
                percent: bool = False, minimum: float | None = None,
                maximum: float | None = None, plausible: tuple[float | None, float | None]
                = (None, None), what: str | None = None) -> float | None:
    """A number; for a percentage measure, percentage points.

    The percentage rule (one rule, documented in the README): a percentage cell holds the
    fraction it shows, so 0.98 (98%) is read as 98 and 1.4 (140%) and 1.6 (160%) are both
    above 100% and refused, quoted as the cell shows them. A whole number from 2 to 100
    (98, which the cell shows as 9,800%) can only mean percentage points: it is read so,
    with a warning. Text is read the same way ('98%' and '0.98' are 98)."""
    what = what or ("a percentage" if percent else "a number")
    if unreadable(raw, at, out):
        return None
    if is_blank(raw):
        if required:
            out.append(at.issue("required-missing", expected=what))
        return None
    if isinstance(raw, bool):
        out.append(at.issue("not-a-number", found=str(raw).upper(), expected=what))
        return None
    shown: str
    if isinstance(raw, int | float):
        value = float(raw)
        if not math.isfinite(value):
            out.append(at.issue("not-a-number", found=_non_finite(value), expected=what))
            return None
        shown = fmt_number(value)
        if percent:
            shown = percent_shown(round(value * 100.0, 10))
            if _points_typed(value):
                out.append(at.issue("percent-as-points", found=shown,
                                    expected=percent_shown(value)))
            else:
                value = value * 100.0
    elif isinstance(raw, str):
        parsed, had_pct = _number_from_text(raw)
        if parsed is None or not math.isfinite(parsed):
            out.append(at.issue("not-a-number", found=raw, expected=what))
            return None
        value, shown = parsed, raw.strip()
        if percent and not had_pct and not _points_typed(value):
            value *= 100.0
        out.append(at.issue("number-as-text", found=raw,
                            expected=percent_shown(value) if percent else fmt_number(value)))
    else:
        out.append(at.issue("not-a-number", found=str(raw), expected=what))
        return None
    value = round(value, 10)
    lo = 0.0 if percent and minimum is None else minimum
    hi = 100.0 if percent and maximum is None else maximum
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        out.append(at.issue("out-of-range", found=shown,
                            expected=f"{what} ({bound_text(lo, hi, percent)})"))
        return None
    plo, phi = plausible
    if (plo is not None and value < plo) or (phi is not None and value > phi):
        rng = f"{fmt_number(plo) if plo is not None else '-'} and " \
              f"{fmt_number(phi) if phi is not None else '-'}"
        out.append(at.issue("implausible-value", found=shown, expected=rng))
    return value


def _points_typed(value: float) -> bool:
    """A whole number from 2 to 100 in a percentage cell: percentage points typed plainly."""
    return 2 <= value <= 100 and float(value).is_integer()


def _non_finite(value: float) -> str:
    return "NaN (not a number)" if math.isnan(value) else \
        ("infinity" if value > 0 else "minus infinity")


_DMY = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2}|\d{4})$")
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_WORDY = ("%d %b %Y", "%d %B %Y", "%d-%b-%Y", "%d %b %y", "%b %Y", "%B %Y")


def _date_from_text(text: str) -> dt.date | None:
    t = text.strip()
    try:
        if m := _ISO.match(t):
            return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        if m := _DMY.match(t):  # UK: day first, always
            y = int(m.group(3))
            y = y + 2000 if y < 100 else y
            return dt.date(y, int(m.group(2)), int(m.group(1)))
    except ValueError:
        return None
    for f in _WORDY:
        try:
            return dt.datetime.strptime(t, f).date()
        except ValueError:
            continue
    return None


EXCEL_EPOCH = dt.date(1899, 12, 30)
# Dates a programme can mean. A number typed into a date cell becomes a date: 2003 is
# 25 Jun 1905, 15 is 15 Jan 1900; such a date is refused, never read silently.
PLAUSIBLE_DATES = (dt.date(1980, 1, 1), dt.date(2099, 12, 31))


def from_serial(raw: object) -> dt.date | None:
    """A date from Excel's serial number: what a date cell holds once a paste has wiped
    its date format (1 Jan 2003 is 37622)."""
    if isinstance(raw, int | float) and not isinstance(raw, bool) and 1 <= raw < 2958466:
        return EXCEL_EPOCH + dt.timedelta(days=int(raw))
    return None


def read_date(raw: object, at: At, out: list[Issue], *, required: bool = False,
              what: str = "a date") -> dt.date | None:
    """A date; text is read day first (03/04/2003 is 3 April), with a warning."""
    if unreadable(raw, at, out):
        return None
    if is_blank(raw):
        if required:
            out.append(at.issue("required-missing", expected=what))
        return None
    if isinstance(raw, dt.datetime):
        return _plausible_date(raw.date(), at, out)
    if isinstance(raw, dt.date):
        return _plausible_date(raw, at, out)
    if (serial := from_serial(raw)) is not None:
        return _plausible_date(serial, at, out)
    if isinstance(raw, str):
        d = _date_from_text(raw)
        if d is None:
            out.append(at.issue("not-a-date", found=raw))
            return None
        out.append(at.issue("date-as-text", found=raw, expected=d.strftime("%d %b %Y")))
        return _plausible_date(d, at, out)
    out.append(at.issue("not-a-date", found=raw))
    return None


def _plausible_date(d: dt.date, at: At, out: list[Issue]) -> dt.date | None:
    lo, hi = PLAUSIBLE_DATES
    if lo <= d <= hi:
        return d
    serial = (d - EXCEL_EPOCH).days
    out.append(at.issue("implausible-date", found=f"{d:%d %b %Y} (the number {serial:,} in "
                                                  "a date cell)" if 0 < serial < 40000
                        else f"{d:%d %b %Y}",
                        expected=f"{lo:%Y} to {hi:%Y}"))
    return None


_SYNONYMS = {
    "GREEN": "G", "AMBER/GREEN": "AG", "AMBER GREEN": "AG", "AMBER-GREEN": "AG",
    "AMBERGREEN": "AG", "A/G": "AG", "AMBER/RED": "AR", "AMBER RED": "AR", "AMBER-RED": "AR",
    "AMBERRED": "AR", "A/R": "AR", "RED": "R", "LOW": "L", "MEDIUM": "M", "HIGH": "H",
    "VERY HIGH": "VH", "YES": "yes", "NO": "no",
}


def read_code(raw: object, allowed: list[str], at: At, out: list[Issue], *,
              required: bool = False, what: str | None = None) -> str | None:
    """One of `allowed`; near misses ('g', 'G ', 'Green') are read with a warning."""
    what = what or "one of " + ", ".join(allowed)
    if unreadable(raw, at, out):
        return None
    if is_blank(raw):
        if required:
            out.append(at.issue("required-missing", expected=what))
        return None
    if isinstance(raw, float) and raw.is_integer():
        raw_s = str(int(raw))
    else:
        raw_s = str(raw)
    if raw_s in allowed:
        return raw_s
    key = " ".join(raw_s.strip().split()).upper()
    by_upper = {a.upper(): a for a in allowed}
    value = by_upper.get(key) or by_upper.get(_SYNONYMS.get(key, "").upper())
    if value is None:
        out.append(at.issue("not-allowed", found=raw, expected=", ".join(allowed)))
        return None
    out.append(at.issue("value-normalised", found=raw, expected=value))
    return value


# ----------------------------------------------------------------------------- readers
# Ingest reads tens of thousands of cells a second, nearly all of them everyday values: a
# number in range, a code from the list, plain text. A Reader pairs a `fast` test that
# answers those at once (or says SLOW) with the `full` reader above, which reads anything
# and says why not. `fast` never raises an issue, so what it accepts the full reader would
# accept unchanged (tests/validation/test_cells.py checks the two agree).

SLOW = object()  # a fast reader's answer for "read this one in full"

Fast = Callable[[object], object]
Full = Callable[[object, At, list[Issue]], object]


@dataclass(frozen=True, slots=True)
class Reader:
    fast: Fast
    full: Full


def number_reader(*, required: bool = False, percent: bool = False,
                  minimum: float | None = None, maximum: float | None = None,
                  plausible: tuple[float | None, float | None] = (None, None),
                  what: str | None = None, whole: bool = False) -> Reader:
    """read_number (and, if `whole`, a whole number) with its everyday case made fast."""
    full = partial(read_number, required=required, percent=percent, minimum=minimum,
                   maximum=maximum, plausible=plausible, what=what)
    lo = 0.0 if percent and minimum is None else minimum
    hi = 100.0 if percent and maximum is None else maximum
    bounds_lo = [b for b in (lo, plausible[0]) if b is not None]
    bounds_hi = [b for b in (hi, plausible[1]) if b is not None]
    flo, fhi = max(bounds_lo, default=-inf), min(bounds_hi, default=inf)

    def fast(raw: object) -> object:
        c = raw.__class__
        if c is float or c is int:
            if percent:
                if not -1.5 <= raw <= 1.5:  # type: ignore[operator]
                    return SLOW
                v = round(raw * 100.0, 10)  # type: ignore[operator]
            else:
                v = round(float(raw), 10)  # type: ignore[arg-type]
            if not flo <= v <= fhi or v in (inf, -inf):
                return SLOW
            if whole:
                return int(v) if v.is_integer() else SLOW
            return v
        return None if (raw is None or raw == "") and not required else SLOW

    if not whole:
        return Reader(fast, full)

    def full_whole(raw: object, at: At, out: list[Issue]) -> int | None:
        v = full(raw, at, out)
        if v is not None and not float(v).is_integer():
            out.append(at.issue("not-a-number", found=raw, expected="a whole number"))
            return None
        return int(v) if v is not None else None
    return Reader(fast, full_whole)


def text_reader(*, required: bool = False, what: str = "some text",
                max_len: int = 4000) -> Reader:
    def fast(raw: object) -> object:
        if raw.__class__ is str:
            if len(raw) <= max_len and raw.strip() and not raw.startswith(
                    FORMULA_STARTS):
                return raw
            return None if raw == "" and not required else SLOW
        return None if raw is None and not required else SLOW
    return Reader(fast, partial(read_text, required=required, what=what, max_len=max_len))


def code_reader(allowed: list[str], *, required: bool = False) -> Reader:
    exact = frozenset(allowed)

    def fast(raw: object) -> object:
        if raw.__class__ is str and raw in exact:
            return raw
        return None if (raw is None or raw == "") and not required else SLOW

    def full(raw: object, at: At, out: list[Issue]) -> str | None:
        return read_code(raw, allowed, at, out, required=required)
    return Reader(fast, full)


def date_reader(*, required: bool = False, what: str = "a date") -> Reader:
    lo, hi = PLAUSIBLE_DATES

    def fast(raw: object) -> object:
        c = raw.__class__
        if c is dt.datetime:
            raw = raw.date()  # type: ignore[attr-defined]
            c = dt.date
        if c is dt.date:
            return raw if lo <= raw <= hi else SLOW  # type: ignore[operator]
        return None if (raw is None or raw == "") and not required else SLOW
    return Reader(fast, partial(read_date, required=required, what=what))
