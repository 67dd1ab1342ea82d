"""Reporting periods as 'YYYY-MM' strings: sortable, readable and safe as SQLite keys."""

from __future__ import annotations

import datetime as dt
import re

_PERIOD = re.compile(r"^(\d{4})-(\d{2})$")
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def parse_period(value: object) -> str:
    """Return 'YYYY-MM' for a period string, a date or a datetime; raise ValueError otherwise."""
    if isinstance(value, dt.date):
        return f"{value.year:04d}-{value.month:02d}"
    text = str(value).strip()
    m = _PERIOD.match(text)
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise ValueError(f"not a period (YYYY-MM): {value!r}")
    return text


def period_date(period: str) -> dt.date:
    """First day of the period's month."""
    y, m = period.split("-")
    return dt.date(int(y), int(m), 1)


def period_end(period: str) -> dt.date:
    """Last day of the period's month."""
    return period_date(add_months(period, 1)) - dt.timedelta(days=1)


def period_label(period: str) -> str:
    """'2003-11' -> 'Nov 2003', the form ministers read."""
    y, m = period.split("-")
    return f"{MONTHS[int(m) - 1]} {y}"


def add_months(period: str, n: int) -> str:
    y, m = (int(x) for x in period.split("-"))
    total = y * 12 + (m - 1) + n
    return f"{total // 12:04d}-{total % 12 + 1:02d}"


def months_between(a: str, b: str) -> int:
    """Number of months from a to b (negative if b is earlier)."""
    ay, am = (int(x) for x in a.split("-"))
    by, bm = (int(x) for x in b.split("-"))
    return (by * 12 + bm) - (ay * 12 + am)


def period_range(start: str, end: str, step: int = 1) -> list[str]:
    """Periods from start to end inclusive, every `step` months."""
    out, p = [], start
    while p <= end:
        out.append(p)
        p = add_months(p, step)
    return out
