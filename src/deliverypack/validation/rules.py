"""The rulebook: every check on an input cell, declared once.

A CellRule says what one input cell may hold (type, whole or decimal, hard bounds,
plausible range, allowed values, required, text length). From it come the engine's reader
(`reader`), the template's data validation (`validation`, stop style for hard limits), the
formulas of the template's conditional formatting and Checks panel (`cell_checks`, which
adds the cross-field rules of a row), the input message and the instructions text
(`describe`), and the README's table (`rulebook_markdown`). The template and the engine
therefore refuse the same values: tests/test_rules.py checks it value by value in
LibreOffice.

Formulas use only functions Excel, Excel for the web and LibreOffice share (IF, AND, OR,
NOT, N, ISNUMBER, ISERROR, IFERROR, INT, LEN, EXACT, UPPER, TRIM, DATE, SUM, INDEX, MATCH,
ADDRESS, ROW, COLUMN), none volatile.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

from ..foundation.domain import MILESTONE_STATUS
from .cells import (
    PLAUSIBLE_DATES,
    Reader,
    bound_text,
    code_reader,
    date_reader,
    fmt_number,
    number_reader,
    text_reader,
)

TEXT_MAX = 4000
NUMERIC = ("number", "percent", "int")
CODED = ("code", "rating")
Severity = Literal["error", "warning"]

# Colours: told apart by hue for most readers and by lightness for everyone (colour-vision
# deficiency, greyscale print); errors are also bold white type, warnings bold italic.
INPUT_COLOUR = "FFF4CC"  # pale yellow: a cell for you to fill (relative luminance 0.90)
TO_FILL_COLOUR = "BDD7EE"  # light blue: required, still empty (0.66)
WARNING_COLOUR = "E69138"  # orange, bold italic type: unusual, check it (0.37)
ERROR_COLOUR = "A50021"  # dark red, bold white type: must be fixed (0.08)

PANEL_NAME = "dp_checks_panel"  # the defined name of the Cover's Checks panel (read back)


@dataclass(frozen=True)
class CellRule:
    """What one input cell may hold. Bounds of a percentage are in percentage points."""

    typ: str
    label: str = ""
    required: bool = False
    minimum: float | None = None
    maximum: float | None = None
    plausible: tuple[float | None, float | None] = (None, None)
    allowed: tuple[str, ...] = ()
    max_len: int = TEXT_MAX

    @property
    def whole(self) -> bool:
        return self.typ == "int"

    def bounds(self) -> tuple[float | None, float | None]:
        """The hard limits the engine enforces (a percentage is 0 to 100 unless set)."""
        if self.typ == "percent":
            return (0.0 if self.minimum is None else self.minimum,
                    100.0 if self.maximum is None else self.maximum)
        return self.minimum, self.maximum


def cell_rule(typ: str, *, label: str = "", required: bool = False,
              allowed: list[str] | tuple[str, ...] = (), minimum: float | None = None,
              maximum: float | None = None,
              plausible: tuple[float | None, float | None] = (None, None)) -> CellRule:
    """The rule of a cell, keeping only what applies to its type (so equal rules are equal)."""
    if typ in CODED:
        return CellRule(typ, label, required, allowed=tuple(allowed))
    if typ in NUMERIC:
        plo, phi = plausible
        return CellRule(typ, label, required, minimum, maximum, (plo, phi))
    return CellRule(typ, label, required)


# ----------------------------------------------------------------------------- the engine
@lru_cache(maxsize=1024)
def reader(rule: CellRule) -> Reader:
    """How the engine reads a cell under this rule (one Reader for every cell alike)."""
    what = rule.label.lower()
    if rule.typ in CODED:
        return code_reader(list(rule.allowed), required=rule.required)
    if rule.typ in NUMERIC:
        return number_reader(required=rule.required, percent=rule.typ == "percent",
                             minimum=rule.minimum, maximum=rule.maximum,
                             plausible=rule.plausible, whole=rule.whole,
                             what=f"the {what} as a percentage" if rule.typ == "percent"
                             else f"the {what} as a number")
    if rule.typ == "date":
        return date_reader(required=rule.required, what=f"the {what} as a date")
    return text_reader(required=rule.required, what=f"the {what}", max_len=rule.max_len)


# ----------------------------------------------------------------------------- words
def expectation(rule: CellRule) -> str:
    """What the cell takes, in the words of the input message and the instructions."""
    lo, hi = rule.bounds()
    if rule.typ in CODED:
        return "one of " + ", ".join(rule.allowed)
    if rule.typ == "percent":
        return f"a percentage {bound_text(lo, hi, True)}, typed as 98% or 98"
    if rule.typ == "int":
        return f"a whole number {bound_text(lo, hi, False)}" if (lo, hi) != (None, None) \
            else "a whole number"
    if rule.typ == "number":
        return f"a number {bound_text(lo, hi, False)}" if (lo, hi) != (None, None) \
            else "a number"
    if rule.typ == "date":
        return "a date, e.g. 31/12/2003"
    return f"text, at most {rule.max_len:,} characters"


def plausible_text(rule: CellRule) -> str:
    plo, phi = rule.plausible
    if plo is None and phi is None:
        return ""
    pct = "%" if rule.typ == "percent" else ""

    def f(x: float) -> str:
        return f"{fmt_number(x)}{pct}"
    if plo is not None and phi is not None:
        return f"usually {f(plo)} to {f(phi)}"
    if plo is not None:
        return f"usually {f(plo)} or more"
    assert phi is not None
    return f"usually no more than {f(phi)}"


def describe(rule: CellRule) -> str:
    """The input message: what to type, whether it is required, what is usual."""
    parts = [expectation(rule)[0].upper() + expectation(rule)[1:]]
    if rule.required:
        parts.append("required")
    if p := plausible_text(rule):
        parts.append(p + " (an unusual figure is kept, with a warning)")
    return "; ".join(parts) + "."


# ----------------------------------------------------------------------------- formulas
def _num(x: float) -> str:
    return f"{x:.10g}"


def _q(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def points(x: str) -> str:
    """A percentage cell's value in points, read as the engine reads it: a whole number
    from 2 to 100 is points typed plainly (98), anything else the fraction shown (0.98)."""
    return f"IF(AND({x}>=2,{x}<=100,{x}=INT({x})),{x},{x}*100)"


@dataclass(frozen=True)
class Check:
    """One check a formula can make on a cell: true when the cell breaks it."""

    severity: Severity
    code: str  # the engine's issue code for the same problem
    condition: str  # an Excel formula, true when broken
    message: str  # as the Checks panel lists it


def value_checks(rule: CellRule, x: str) -> list[Check]:
    """The checks of one cell's own value, in the order the engine makes them; `x` is a
    reference to the cell (relative, absolute or on another sheet)."""
    out: list[Check] = [Check("error", "excel-error", f"ISERROR({x})",
                              "shows an Excel error")]
    blank = f'LEN({x})=0'
    if rule.required:
        out.append(Check("error", "required-missing", blank, "required, still empty"))
    filled = f"LEN({x})>0"
    if rule.typ in NUMERIC:
        out.append(Check("error", "not-a-number", f"AND({filled},NOT(ISNUMBER({x})))",
                         "not a number: " + expectation(rule)))
        lo, hi = rule.bounds()
        v = points(x) if rule.typ == "percent" else x
        outside = [f"{v}<{_num(lo)}" for _ in [0] if lo is not None] + \
                  [f"{v}>{_num(hi)}" for _ in [0] if hi is not None]
        if rule.whole:
            outside.append(f"{x}<>INT({x})")
        if outside:
            out.append(Check("error", "out-of-range",
                             f"IF(ISNUMBER({x}),OR({','.join(outside)}),FALSE)",
                             "out of range: " + expectation(rule)))
        if rule.typ == "percent":
            out.append(Check("warning", "percent-as-points",
                             f"IF(ISNUMBER({x}),AND({x}>=2,{x}<=100,{x}=INT({x})),FALSE)",
                             "read as percentage points (type 98% to be sure)"))
        plo, phi = rule.plausible
        odd = [f"{v}<{_num(plo)}" for _ in [0] if plo is not None] + \
              [f"{v}>{_num(phi)}" for _ in [0] if phi is not None]
        if odd:
            ok = f"NOT(OR({','.join(outside)}))" if outside else "TRUE"
            out.append(Check("warning", "implausible-value",
                             f"IF(ISNUMBER({x}),AND({ok},OR({','.join(odd)})),FALSE)",
                             f"unusual: {plausible_text(rule)}; check it"))
    elif rule.typ in CODED:
        loose = ",".join(f"UPPER(TRIM({x}&\"\"))={_q(a.upper())}" for a in rule.allowed)
        exact = ",".join(f"EXACT({x}&\"\",{_q(a)})" for a in rule.allowed)
        out.append(Check("error", "not-allowed", f"AND({filled},NOT(OR({loose})))",
                         "not allowed: " + expectation(rule)))
        out.append(Check("warning", "value-normalised",
                         f"AND({filled},OR({loose}),NOT(OR({exact})))",
                         "read as the code in capitals"))
    elif rule.typ == "date":
        lo_d, hi_d = PLAUSIBLE_DATES
        out.append(Check("error", "not-a-date", f"AND({filled},NOT(ISNUMBER({x})))",
                         "not a date: type a date, e.g. 31/12/2003"))
        out.append(Check("error", "implausible-date",
                         f"IF(ISNUMBER({x}),OR({x}<DATE({lo_d:%Y,%-m,%-d}),"
                         f"{x}>DATE({hi_d:%Y,%-m,%-d})),FALSE)",
                         f"a date from {lo_d:%Y} to {hi_d:%Y} is expected"))
    else:
        out.append(Check("error", "text-too-long", f"LEN({x})>{rule.max_len}",
                         f"longer than {rule.max_len:,} characters"))
    return out


def accepts(rule: CellRule, x: str) -> str:
    """The data validation's formula: true for a value the engine takes (blank included)."""
    hard = [c.condition for c in value_checks(rule, x)
            if c.severity == "error" and c.code not in ("required-missing", "excel-error")]
    return f"NOT(OR({','.join(hard)}))" if hard else "TRUE"


# ----------------------------------------------------------------------------- validation
@dataclass(frozen=True)
class Validation:
    """An Excel data validation, stop style: what openpyxl writes on the cells."""

    type: str
    operator: str | None
    formula1: str
    formula2: str | None
    error: str


def validation(rule: CellRule, top_left: str) -> Validation:
    """The data validation of a run of cells with this rule, whose first cell is
    `top_left` (a custom formula is relative to it). Native types where Excel has one, so
    the officer gets its dropdown or date picker; a formula where it has none (a
    percentage typed as 98% or as 98)."""
    err = "Expected " + expectation(rule) + "."
    lo, hi = rule.bounds()
    if rule.typ in CODED:
        return Validation("list", None, _q(",".join(rule.allowed)), None, err)
    if rule.typ == "date":
        a, b = (f"DATE({d:%Y,%-m,%-d})" for d in PLAUSIBLE_DATES)
        return Validation("date", "between", a, b, err)
    if rule.typ in ("number", "int") and (lo is not None or hi is not None):
        kind = "whole" if rule.whole else "decimal"
        if lo is not None and hi is not None:
            return Validation(kind, "between", _num(lo), _num(hi), err)
        if lo is not None:
            return Validation(kind, "greaterThanOrEqual", _num(lo), None, err)
        assert hi is not None
        return Validation(kind, "lessThanOrEqual", _num(hi), None, err)
    if rule.typ in NUMERIC:
        return Validation("custom", None, accepts(rule, top_left), None, err)
    return Validation("textLength", "lessThanOrEqual", str(rule.max_len), None, err)


# ----------------------------------------------------------------------------- cross-field
@dataclass(frozen=True)
class CrossRule:
    """A rule between cells of a row or table: the engine's check and, where a formula can
    say it, the template's (made by `checks` for the cell it marks)."""

    code: str
    kind: str  # the table kind it applies to
    column: str  # the cell it marks
    severity: Severity
    text: str
    checks: Callable[[Callable[[str], str], dict[str, Any]], list[Check]] | None = None


RATED = ("quality", "capacity", "likelihood")  # the three judgements on G, AG, AR, R


def _is(ref: str, codes: list[str]) -> str:
    """The cell holds one of `codes`, read as the engine reads a code (any capitals,
    spaces trimmed)."""
    return "OR(" + ",".join(f"UPPER(TRIM({ref}&\"\"))={_q(c.upper())}" for c in codes) + ")"


def _weak(refs: list[str]) -> str:
    return "OR(" + ",".join(_is(r, ["AR", "R"]) for r in refs) + ")"


def _unit_narrative(ref: Callable[[str], str], row: dict[str, Any]) -> list[Check]:
    weak = _weak([ref(f"unit_{d}") for d in RATED])
    return [Check("error", "narrative-required", f"AND(LEN({ref('narrative')})=0,{weak})",
                  "a narrative is required: a judgement is AR or R")]


def _numerator(ref: Callable[[str], str], row: dict[str, Any]) -> list[Check]:
    """Compared only when both are figures the engine takes (counts: 0 or more)."""
    n, d = ref("numerator"), ref("denominator")
    return [Check("error", "out-of-range",
                  f"IF(AND(ISNUMBER({n}),ISNUMBER({d})),AND({n}>{d},{n}>=0,{d}>=0),FALSE)",
                  "the numerator is more than the denominator")]


def _figure_or_reason(col: str) -> Callable[[Callable[[str], str], dict[str, Any]],
                                            list[Check]]:
    def checks(ref: Callable[[str], str], row: dict[str, Any]) -> list[Check]:
        return [Check("error", "required-missing",
                      f"AND(LEN({ref(col)})=0,LEN({ref('unavailable')})=0)",
                      "a figure is required, or a reason in 'Not yet available: why'")]
    return checks


def _forecast_date(ref: Callable[[str], str], row: dict[str, Any]) -> list[Check]:
    s, f = ref("status"), ref("forecast")
    live = _is(s, [m for m in MILESTONE_STATUS if m != "Complete"])
    return [Check("error", "forecast-date-required", f"AND(LEN({f})=0,{live})",
                  "a forecast date is required unless the milestone is complete")]


def _actual_missing(ref: Callable[[str], str], row: dict[str, Any]) -> list[Check]:
    return [Check("warning", "actual-missing", f"LEN({ref('actual')})=0",
                  "no actual for a month of this round")]


NEW_ACTION = ("description", "owner", "department", "due", "priority")


def _used_row(col: str) -> Callable[[Callable[[str], str], dict[str, Any]], list[Check]]:
    """A new action's description, owner and due date, once its row is used."""
    def checks(ref: Callable[[str], str], row: dict[str, Any]) -> list[Check]:
        used = "OR(" + ",".join(f"LEN({ref(k)})>0" for k in NEW_ACTION) + ")"
        return [Check("error", "required-missing", f"AND(LEN({ref(col)})=0,{used})",
                      f"a new action needs its {col}")]
    return checks


def _represented(ref: Callable[[str], str], row: dict[str, Any]) -> list[Check]:
    return [Check("error", "required-missing", f"AND(LEN({ref('represented_by')})=0,"
                  f"{_is(ref('attendance'), ['represented'])})",
                  "who represented them is required")]


CROSS_RULES: list[CrossRule] = [
    CrossRule("required-missing", "new_actions", "description", "error",
              "A new action has a description, an owner and a due date.",
              _used_row("description")),
    CrossRule("required-missing", "new_actions", "owner", "error", "(the same, the owner)",
              _used_row("owner")),
    CrossRule("required-missing", "new_actions", "due", "error", "(the same, the due date)",
              _used_row("due")),
    CrossRule("required-missing", "attendance", "represented_by", "error",
              "A member marked represented names who represented them.", _represented),
    CrossRule("actual-missing", "traj", "actual", "warning",
              "A trajectory's actual for a month of this round is given (else a warning).",
              _actual_missing),
    CrossRule("narrative-required", "assess", "now", "error",
              "The narrative is required when quality, capacity or likelihood is AR or R."),
    CrossRule("narrative-required", "unit_assess", "narrative", "error",
              "The unit's narrative is required when a judgement is AR or R.",
              _unit_narrative),
    CrossRule("out-of-range", "orgs", "numerator", "error",
              "An organisation's numerator is no more than its denominator.", _numerator),
    CrossRule("required-missing", "orgs", "numerator", "error",
              "Each organisation's figure is given, or the reason why it is not yet "
              "available.", _figure_or_reason("numerator")),
    CrossRule("required-missing", "orgs", "denominator", "error",
              "(the same, for the denominator)", _figure_or_reason("denominator")),
    CrossRule("required-missing", "orgs", "value", "error",
              "(the same, for a single figure)", _figure_or_reason("value")),
    CrossRule("forecast-date-required", "miles", "forecast", "error",
              "A milestone not complete has a forecast date.", _forecast_date),
]

# What a formula in the template cannot judge, with the reason; the engine checks it.
ENGINE_ONLY: list[tuple[str, str]] = [
    ("locked-cell-changed", "the template's own text and pre-filled values are protected; "
     "comparing them with what was issued needs the issued copy, kept in the ledger"),
    ("missing-row, unexpected-row, duplicate-key", "rows deleted, added or repeated are "
     "found by reading every row's key against the issued spec"),
    ("outside-input", "a value typed outside the tables is found by reading the whole sheet"),
    ("missing-sheet, missing-name, wrong-version", "a deleted sheet or table cannot "
     "count itself"),
    ("value-normalised (full words)", "a full word for a code ('Green' for G) is read by "
     "the engine with a warning; the template's dropdown and panel refuse it (stricter); "
     "a code in other capitals ('g') is a warning in both"),
    ("number-as-text, date-as-text", "text that reads as a number or date is accepted by "
     "the engine with a warning; the template counts it as an error (stricter), because "
     "formulas read text by the machine's locale"),
    ("formula-input, formula-text", "whether a cell holds a formula or text beginning like "
     "one is not visible to a formula without volatile or non-shared functions"),
    ("row-incomplete (issues, risks, asks, revisions), due-before-meeting, "
     "forecast-date-inconsistent",
     "not yet written as formulas: left to the engine"),
    ("unknown-department, unknown-round, wrong-round, round-closed", "need the unit's "
     "register and ledger"),
]


def cross_rules(kind: str, column: str) -> list[CrossRule]:
    return [r for r in CROSS_RULES if r.kind == kind and r.column == column and r.checks]


def assess_narrative(narrative: str, ratings: list[str]) -> list[Check]:
    """The self-assessment's narrative (a row of its own), against the three ratings'
    cells (given absolutely: they sit on other rows)."""
    return [Check("error", "narrative-required",
                  f"AND(LEN({narrative})=0,{_weak(ratings)})",
                  "a narrative is required: a rating is AR or R")]


# ----------------------------------------------------------------------------- docs
def rulebook_markdown(rules: list[CellRule]) -> str:
    """The README's table: each kind of input cell and what the template and the engine
    both hold it to; then the cross-field rules and the engine-only ones."""
    lines = ["| cell | takes | hard limit (stop) | plausible (warning) |",
             "|---|---|---|---|"]
    seen: set[tuple] = set()
    for r in rules:
        key = (r.label, r.typ, r.bounds(), r.plausible, len(r.allowed))
        if key in seen:
            continue
        seen.add(key)
        lo, hi = r.bounds()
        hard = bound_text(lo, hi, r.typ == "percent") if r.typ in NUMERIC else \
            ("listed values" if r.typ in CODED else
             ("1980 to 2099" if r.typ == "date" else f"{r.max_len:,} characters"))
        lines.append(f"| {r.label}{' (required)' if r.required else ''} | "
                     f"{expectation(r)} | {hard} | {plausible_text(r) or '-'} |")
    lines += ["", "| cross-field rule | code | in the template |", "|---|---|---|"]
    for c in CROSS_RULES:
        lines.append(f"| {c.text} | `{c.code}` | formula ({c.severity}) |")
    lines += ["", "| left to the engine | why |", "|---|---|"]
    lines += [f"| `{code}` | {why} |" for code, why in ENGINE_ONLY]
    return "\n".join(lines)
