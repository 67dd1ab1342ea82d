"""The rulebook: every check on an input cell, declared once.

A CellRule says what one input cell may hold (type, whole or decimal, hard bounds,
plausible range, allowed values, required, text length). From it come the engine's reader
(`reader`), the template's data validation (`validation`, stop style for hard limits), the
formulas of the template's conditional formatting and Checks panel (`cell_checks`, which
adds the cross-field rules of a row), the input message and the instructions text
(`describe`), and the README's table (`rulebook_markdown`). A CrossRule's condition
(`Cond`) is at once the engine's test of the values read (validation/checks.py,
`check_cross`) and the template's formula. The template and the engine therefore refuse
the same values: tests/validation/test_rules.py checks it value by value in LibreOffice.

Formulas use only functions Excel, Excel for the web and LibreOffice share (IF, AND, OR,
NOT, N, ISNUMBER, ISERROR, IFERROR, INT, LEN, EXACT, UPPER, TRIM, DATE, SUM, INDEX, MATCH,
ADDRESS, ROW, COLUMN), none volatile.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal, Protocol

from ..foundation.domain import MILESTONE_STATUS
from ..foundation.periods import period_label
from .cells import (
    PLAUSIBLE_DATES,
    Reader,
    bound_text,
    code_reader,
    date_reader,
    fmt_number,
    is_blank,
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
class Row(Protocol):
    """A row as the engine read it (or a table read as one row): what a cross-field rule's
    test looks at."""

    @property
    def key(self) -> tuple: ...

    def get(self, col: str) -> Any: ...

    def raw(self, col: str) -> Any: ...

    def header(self, col: str) -> str: ...

    def is_input(self, col: str) -> bool: ...


Ref = Callable[[str], str]


@dataclass(frozen=True)
class Cond:
    """A condition on the cells of a row, said once and read two ways: as an Excel formula
    over the cells' references (the template) and as a test of the values the engine
    read (the engine). True when the rule is broken."""

    formula: Callable[[Ref], str]
    test: Callable[[Row], bool]
    cols: tuple[str, ...]

    def __and__(self, other: Cond) -> Cond:
        return Cond(lambda ref: f"AND({self.formula(ref)},{other.formula(ref)})",
                    lambda row: self.test(row) and other.test(row), self.cols + other.cols)


def blank(col: str) -> Cond:
    """The cell is empty (as typed: a value the engine refused is not empty)."""
    return Cond(lambda ref: f"LEN({ref(col)})=0", lambda row: is_blank(row.raw(col)), (col,))


def any_filled(cols: tuple[str, ...]) -> Cond:
    return Cond(lambda ref: "OR(" + ",".join(f"LEN({ref(k)})>0" for k in cols) + ")",
                lambda row: any(not is_blank(row.raw(k)) for k in cols), cols)


def holds(cols: tuple[str, ...], codes: tuple[str, ...]) -> Cond:
    """One of the cells holds one of `codes`, read as the engine reads a code (any
    capitals, spaces trimmed)."""
    wanted = {c.upper() for c in codes}

    def formula(ref: Ref) -> str:
        each = [_is(ref(k), list(codes)) for k in cols]
        return each[0] if len(each) == 1 else "OR(" + ",".join(each) + ")"
    return Cond(formula,
                lambda row: any(str(row.get(k) or "").strip().upper() in wanted
                                for k in cols), cols)


def more_than(a: str, b: str) -> Cond:
    """Both figures the engine takes (counts: 0 or more), and the first above the second."""
    def test(row: Row) -> bool:
        x, y = row.get(a), row.get(b)
        return isinstance(x, int | float) and isinstance(y, int | float) and x > y
    return Cond(lambda ref: f"IF(AND(ISNUMBER({ref(a)}),ISNUMBER({ref(b)})),"
                            f"AND({ref(a)}>{ref(b)},{ref(a)}>=0,{ref(b)}>=0),FALSE)",
                test, (a, b))


@dataclass(frozen=True)
class CrossRule:
    """A rule between cells of a row or table, declared once: `when` is both the engine's
    test and the template's formula for the cell it marks; `found` and `expected` fill the
    engine's message, `message` is the Checks panel's line. `scope` "table" reads a table
    as one row whose columns are its rows' codes (the self-assessment)."""

    code: str
    kind: str  # the table kind it applies to
    column: str  # the cell it marks
    severity: Severity
    text: str
    when: Cond
    message: str
    found: Callable[[Row], Any] | None = None
    expected: Callable[[Row], Any] | None = None
    only: Callable[[Row, str], bool] | None = None  # engine: the rows it applies to
    scope: Literal["row", "table"] = "row"
    in_template: bool = True  # False: the template writes it its own way (assess_narrative)

    def formula_checks(self, ref: Ref) -> list[Check]:
        return [Check(self.severity, self.code, self.when.formula(ref), self.message)]

    @property
    def checks(self) -> Callable[[Ref, dict[str, Any]], list[Check]] | None:
        """The template's checks for the cell it marks (`ref` gives a column's cell)."""
        if not self.in_template:
            return None
        return lambda ref, row: self.formula_checks(ref)

    def broken(self, row: Row, round_id: str) -> bool:
        """The engine's verdict on one row."""
        return (self.only is None or self.only(row, round_id)) and self.when.test(row)


RATED = ("quality", "capacity", "likelihood")  # the three judgements on G, AG, AR, R
WEAK = ("AR", "R")


def _is(ref: str, codes: list[str]) -> str:
    """The cell holds one of `codes`, read as the engine reads a code (any capitals,
    spaces trimmed)."""
    return "OR(" + ",".join(f"UPPER(TRIM({ref}&\"\"))={_q(c.upper())}" for c in codes) + ")"


def _weak_found(cols: tuple[str, ...], name: Callable[[Row, str], str]
                ) -> Callable[[Row], str]:
    """'quality is AR and likelihood is R': the judgements that ask for a narrative."""
    return lambda row: " and ".join(f"{name(row, c)} is {row.get(c)}" for c in cols
                                    if str(row.get(c) or "").upper() in WEAK)


def _figure_or_reason(col: str, what: str) -> CrossRule:
    return CrossRule(
        "required-missing", "orgs", col, "error", what, blank(col) & blank("unavailable"),
        "a figure is required, or a reason in 'Not yet available: why'",
        expected=lambda row: f"the {row.header(col).lower()}, or a reason in "
                             f"'{row.header('unavailable')}'")


NEW_ACTION = ("description", "owner", "department", "due", "priority")


def _new_action(col: str, text: str, expected: str) -> CrossRule:
    """A new action's description, owner and due date, once its row is used."""
    return CrossRule("required-missing", "new_actions", col, "error", text,
                     blank(col) & any_filled(NEW_ACTION), f"a new action needs its {col}",
                     expected=lambda row: expected)


UNIT_RATED = tuple(f"unit_{d}" for d in RATED)

CROSS_RULES: list[CrossRule] = [
    _new_action("description", "A new action has a description, an owner and a due date.",
                "what is to be done"),
    _new_action("owner", "(the same, the owner)", "an owner"),
    _new_action("due", "(the same, the due date)", "a due date"),
    CrossRule("required-missing", "attendance", "represented_by", "error",
              "A member marked represented names who represented them.",
              blank("represented_by") & holds(("attendance",), ("represented",)),
              "who represented them is required", expected=lambda row: "who represented them"),
    CrossRule("actual-missing", "traj", "actual", "warning",
              "A trajectory's actual for a month of this round is given (else a warning).",
              blank("actual"), "no actual for a month of this round",
              expected=lambda row: period_label(row.key[0]),
              only=lambda row, round_id: row.key[0] <= round_id and row.is_input("actual")),
    CrossRule("narrative-required", "assess", "narrative", "error",
              "The narrative is required when quality, capacity or likelihood is AR or R.",
              blank("narrative") & holds(RATED, WEAK),
              "a narrative is required: a rating is AR or R",
              found=_weak_found(RATED, lambda row, c: row.header(c).split(" (")[0].lower()),
              scope="table", in_template=False),
    CrossRule("narrative-required", "unit_assess", "narrative", "error",
              "The unit's narrative is required when a judgement is AR or R.",
              blank("narrative") & holds(UNIT_RATED, WEAK),
              "a narrative is required: a judgement is AR or R",
              found=_weak_found(UNIT_RATED, lambda row, c: c.removeprefix("unit_"))),
    CrossRule("out-of-range", "orgs", "numerator", "error",
              "An organisation's numerator is no more than its denominator.",
              more_than("numerator", "denominator"),
              "the numerator is more than the denominator",
              found=lambda row: row.get("numerator"),
              expected=lambda row: f"no more than the {row.header('denominator').lower()} "
                                   f"({fmt_number(row.get('denominator'))})"),
    _figure_or_reason("numerator", "Each organisation's figure is given, or the reason why "
                                   "it is not yet available."),
    _figure_or_reason("denominator", "(the same, for the denominator)"),
    _figure_or_reason("value", "(the same, for a single figure)"),
    CrossRule("forecast-date-required", "miles", "forecast", "error",
              "A milestone not complete has a forecast date.",
              blank("forecast") & holds(("status",), tuple(
                  m for m in MILESTONE_STATUS if m != "Complete")),
              "a forecast date is required unless the milestone is complete",
              found=lambda row: repr(row.get("status"))),
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
    ("not-yet-available", "a figure not yet available, with its reason, is what the "
     "officer means to send: the panel has nothing to fix; the engine warns the unit of "
     "the gap"),
]


def cross_rules(kind: str, column: str) -> list[CrossRule]:
    return [r for r in CROSS_RULES if r.kind == kind and r.column == column and r.in_template]


def assess_narrative(narrative: str, ratings: list[str]) -> list[Check]:
    """The self-assessment's narrative (a row of its own), against the three ratings'
    cells (given absolutely: they sit on other rows): the same rule the engine applies."""
    refs = dict(zip(RATED, ratings, strict=False)) | {"narrative": narrative}
    rule = next(r for r in CROSS_RULES if r.kind == "assess")
    return rule.formula_checks(lambda k: refs.get(k, '""'))


# ----------------------------------------------------------------------------- docs
def type_text(rule: CellRule) -> str:
    """A rule's type, in a word or two (the rulebook table's column)."""
    return {"int": "whole number", "number": "number", "percent": "percentage (98% or 98)",
            "date": "date", "code": "code", "rating": "rating"}.get(rule.typ, "text")


def hard_limit_text(rule: CellRule) -> str:
    """The limit a value must keep (an error, and the template's stop validation)."""
    lo, hi = rule.bounds()
    if rule.typ in NUMERIC:
        if (lo, hi) == (None, None):
            return "any number"
        return bound_text(lo, hi, rule.typ == "percent")
    if rule.typ in CODED:
        return "one of the allowed values"
    if rule.typ == "date":
        lo_d, hi_d = PLAUSIBLE_DATES
        return f"{lo_d:%Y} to {hi_d:%Y}"
    return f"at most {rule.max_len:,} characters"


def rulebook_markdown(rules: list[CellRule], places: list[str] | None = None) -> str:
    """The rulebook as documentation: each kind of input cell (where it is, when `places`
    says) and what the template and the engine both hold it to; then the cross-field
    rules and those left to the engine. Equal rows are listed once."""
    lines = ["| where | cell | type | required | hard limit (error, stop) | "
             "plausible (warning) | allowed values |", "|---|---|---|---|---|---|---|"]
    seen: set[tuple] = set()
    for k, r in enumerate(rules):
        where = places[k] if places else ""
        key = (where, r)
        if key in seen:
            continue
        seen.add(key)
        plausible = plausible_text(r).removeprefix("usually ") or "-"
        lines.append(f"| {where or '-'} | {r.label} | {type_text(r)} | "
                     f"{'yes' if r.required else 'no'} | {hard_limit_text(r)} | {plausible} | "
                     f"{', '.join(r.allowed) or '-'} |")
    lines += ["", "| cross-field rule | code | severity | in the template |", "|---|---|---|---|"]
    for c in CROSS_RULES:
        lines.append(f"| {c.text} | `{c.code}` | {c.severity} | "
                     f"{'formula' if c.in_template else 'formula, across rows'} |")
    lines += ["", "| left to the engine | why |", "|---|---|"]
    lines += [f"| `{code}` | {why} |" for code, why in ENGINE_ONLY]
    return "\n".join(lines)
