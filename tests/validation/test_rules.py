"""The rulebook: one declaration per input cell gives the engine's reading, the template's
data validation, its formatting, its Checks panel and its instructions."""

from __future__ import annotations

import datetime as dt

import pytest
from openpyxl import load_workbook
from openpyxl.utils.cell import range_boundaries

from conftest import spec_of
from deliverypack.templates.build import template_inputs
from deliverypack.templates.issue import issue_assessment
from deliverypack.templates.taskforce import issue_meeting_record
from deliverypack.validation import rules
from deliverypack.validation.cells import At
from places import ROOT


def templates(workspace):
    """Every kind of template the sample workspace issues: returns, assessment, meeting."""
    paths = sorted(workspace.outbox("2002-12").glob("*.xlsx"))
    paths.append(issue_assessment(workspace, "2002-12"))
    paths.append(issue_meeting_record(workspace, "EOL", dt.date(2003, 9, 15)))
    return [(p, spec_of(workspace, p)) for p in paths]


def _dv_of(sheet, coord):
    found = []
    for dv in sheet.data_validations.dataValidation:
        for rng in dv.sqref.ranges:
            c1, r1, c2, r2 = range_boundaries(rng.coord)
            col, row = range_boundaries(coord)[:2]
            if c1 <= col <= c2 and r1 <= row <= r2:
                found.append(dv)
    return found


def test_every_input_cell_has_the_stop_validation_of_its_rule(workspace):
    kinds = set()
    for path, spec in templates(workspace):
        wb = load_workbook(path)
        for cell in template_inputs(spec):
            coord = f"{chr(64 + cell.col)}{cell.row}"
            dvs = _dv_of(wb[cell.sheet], coord)
            assert len(dvs) == 1, f"{path.name} {cell.sheet}!{coord}: {len(dvs)} validations"
            dv = dvs[0]
            want = rules.validation(cell.rule, "X1")
            assert dv.errorStyle == "stop" and dv.showErrorMessage and dv.showInputMessage
            assert dv.type == want.type, f"{cell.sheet}!{coord} {cell.rule}"
            if want.type != "custom":  # a custom formula is written for its run's first cell
                assert (dv.formula1, dv.formula2) == (want.formula1, want.formula2)
            assert rules.describe(cell.rule) in dv.prompt or len(dv.prompt) == 255
            kinds.add((spec.kind, cell.rule.typ, dv.type))
    # the issue's examples: counts from 0, whole numbers whole, percentages by formula
    assert ("return", "number", "decimal") in kinds
    assert ("return", "percent", "custom") in kinds
    assert ("assessment", "int", "whole") in kinds
    assert ("meeting", "code", "list") in kinds and ("meeting", "date", "date") in kinds


def test_counts_whole_numbers_and_percentages_say_their_limits(workspace):
    wb = load_workbook(workspace.outbox("2002-12") / "HO-2002-12.xlsx")
    sheet = wb["HO2 Unfounded claims"]
    (dv,) = _dv_of(sheet, "C18")  # an actual: a count
    assert (dv.type, dv.operator, dv.formula1) == ("decimal", "greaterThanOrEqual", "0")
    assert "0 or more" in dv.error and "usually 1,000 to 15,000" in dv.prompt
    dh = load_workbook(workspace.outbox("2002-12") / "DH-2002-12.xlsx")
    pct = [dv for s in dh for dv in s.data_validations.dataValidation
           if "percentage" in dv.error]
    assert pct and all(dv.type == "custom" for dv in pct)
    assert all("from 0% to 100%, typed as 98% or 98" in dv.error for dv in pct)
    assert all("INT(" in dv.formula1 and "*100" in dv.formula1 for dv in pct)


def test_percentages_typed_as_98_or_98_percent_agree():
    rule = rules.cell_rule("percent", label="Actual")
    read = rules.reader(rule).full
    for raw, value, codes in [(0.98, 98.0, []), (98, 98.0, ["percent-as-points"]),
                              ("98%", 98.0, ["number-as-text"]), (1.4, None, ["out-of-range"]),
                              (1.6, None, ["out-of-range"]), (1.0, 100.0, [])]:
        out: list = []
        assert read(raw, At("S", "C5"), out) == value, raw
        assert [i.code for i in out] == codes, raw
    assert "typed as 98% or 98" in rules.describe(rule)


def test_whole_numbers_and_counts_are_refused_with_their_bound():
    out: list = []
    assert rules.reader(rules.cell_rule("int", label="No.")).full(12.5, At("S", "B2"),
                                                                   out) is None
    assert out[0].code == "not-a-number" and "whole number" in out[0].message
    out = []
    count = rules.cell_rule("number", label="Actual", minimum=0)
    assert rules.reader(count).full(-5, At("S", "C9"), out) is None
    assert out[0].code == "out-of-range" and "0 or more" in out[0].message


def _luminance(hex_colour: str) -> float:
    def lin(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (int(hex_colour[i:i + 2], 16) / 255 for i in (0, 2, 4))
    return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b)


def test_input_required_warning_and_error_colours_differ_in_greyscale():
    """Told apart without hue (greyscale print, colour-vision deficiency): each step at
    least 0.2 of relative luminance from the next; the old warning colour (FFE699) was
    0.10 from the input shading."""
    shades = [rules.INPUT_COLOUR, rules.TO_FILL_COLOUR, rules.WARNING_COLOUR,
              rules.ERROR_COLOUR]
    lum = [_luminance(c) for c in shades]
    assert all(a - b >= 0.2 for a, b in zip(lum, lum[1:], strict=False)), lum
    assert _luminance(rules.INPUT_COLOUR) - _luminance("FFE699") < 0.2  # what was wrong


def test_instructions_carry_the_colour_key_and_the_rules(workspace):
    wb = load_workbook(workspace.outbox("2002-12") / "DH-2002-12.xlsx")
    lines = {c.value: c for c in wb["Instructions"]["A"] if c.value}
    fills = {c.fill.fgColor.rgb[-6:] for t, c in lines.items() if ":" in t}
    assert {rules.INPUT_COLOUR, rules.TO_FILL_COLOUR, rules.WARNING_COLOUR,
            rules.ERROR_COLOUR} <= fills
    text = "\n".join(lines)
    assert "a percentage from 0% to 100%, typed as 98% or 98" in text.lower()
    assert "Contact name: Text, at most 4,000 characters; required." in text


def test_the_cover_names_its_checks_count_and_the_engine_ignores_the_panel(workspace, filled):
    from deliverypack.returns.ingest import validate_file

    path = filled("HO")
    wb = load_workbook(path)
    cover = wb["Cover"]
    last = max(r for r in range(1, 40) if cover.cell(row=r, column=1).value == "Sign-off date")
    assert cover.cell(row=last + 2, column=1).value == "Checks"  # under the cover table
    e, w, st = (f"$B${last + 4 + k}" for k in range(3))
    assert wb.defined_names["ChecksErrors"].attr_text == f"'Cover'!{e}"
    assert wb.defined_names["ChecksWarnings"].attr_text == f"'Cover'!{w}"
    assert wb.defined_names["ChecksStatus"].attr_text == f"'Cover'!{st}"
    assert cover[e.replace("$", "")].value.startswith("=SUM(Checks!$D$2:$D$")
    assert cover[st.replace("$", "")].value.startswith(f"=IF({e}=0")
    assert wb["Checks"].sheet_state == "hidden"
    report, _ = validate_file(workspace, path)
    assert report.issues == []  # the panel's formulas are not "typed outside the inputs"


def test_required_inputs_are_marked_until_filled(workspace):
    wb = load_workbook(workspace.outbox("2002-12") / "HO-2002-12.xlsx")
    rules_at = {str(cf.sqref): [r for r in cf.rules]
                for cf in wb["Cover"].conditional_formatting}
    blue = [sq for sq, rs in rules_at.items() for r in rs
            if r.dxf and r.dxf.fill is not None and
            str(r.dxf.fill.fgColor.rgb).endswith(rules.TO_FILL_COLOUR)]
    assert "B12" in " ".join(blue)  # the contact name, required
    assert all("LEN(" in r.formula[0] for rs in rules_at.values() for r in rs
               if r.dxf and r.dxf.fill is not None
               and str(r.dxf.fill.fgColor.rgb).endswith(rules.TO_FILL_COLOUR))


def test_the_rulebook_table_lists_cross_field_and_engine_only_rules(workspace):
    table = rules.rulebook_markdown([c.rule for _, s in templates(workspace)
                                     for c in template_inputs(s)])
    assert "| `narrative-required` |" in table
    assert "numerator is no more than its denominator" in table
    assert "locked-cell-changed" in table


@pytest.mark.parametrize("typ", ["number", "percent", "int", "date", "code", "text"])
def test_the_validation_formula_is_the_engines_refusal(typ):
    """accepts() is the negation of the engine's value errors: same checks, same order."""
    rule = rules.cell_rule(typ, allowed=["G", "AG"], minimum=0 if typ != "percent" else None)
    hard = [c for c in rules.value_checks(rule, "A1") if c.severity == "error"]
    formula = rules.accepts(rule, "A1")
    assert all(c.condition in formula for c in hard if c.code not in
               ("required-missing", "excel-error"))


def test_cross_field_rules_carry_the_catalogues_severity():
    from deliverypack.validation.issues import CATALOGUE

    assert {(r.code, r.severity) for r in rules.CROSS_RULES} <= {
        (t.code, t.severity) for t in CATALOGUE.values()}


def test_the_engine_checks_the_rulebooks_cross_field_declarations(workspace, filled,
                                                                   monkeypatch):
    """One declaration drives both: the engine's narrative check is the rulebook's rule
    (the template's formula is made from the same `when`); taken out of the rulebook, the
    engine no longer makes it."""
    from conftest import block
    from deliverypack.returns.ingest import validate_file

    spec = spec_of(workspace, workspace.outbox("2002-12") / "DH-2002-12.xlsx")
    assess, orgs = block(spec, "assess"), block(spec, "orgs")
    p = filled("DH", overrides={(assess.name, 4, "now"): "R", (assess.name, 5, "now"): None,
                                (orgs.name, 0, "numerator"): 9999999})
    rep, _ = validate_file(workspace, p)
    found = {i.code: i for i in rep.issues}
    assert "is R" in found["narrative-required"].message
    assert "no more than the" in found["out-of-range"].message
    rule = next(r for r in rules.CROSS_RULES if r.kind == "assess")
    formula = rules.assess_narrative("D9", ["D5", "D6", "D7"])[0].condition
    assert formula == rule.when.formula({"narrative": "D9", "quality": "D5", "capacity": "D6",
                                         "likelihood": "D7"}.__getitem__)
    monkeypatch.setattr(rules, "CROSS_RULES", [r for r in rules.CROSS_RULES
                                               if r.kind not in ("assess", "orgs")])
    rep, _ = validate_file(workspace, p)
    assert not {"narrative-required", "out-of-range"} & {i.code for i in rep.issues}


def test_the_rulebook_page_is_what_make_docs_writes():
    """docs/rulebook.md regenerated from the rulebook equals the committed page, and it
    shows each rule's type, limit, plausible range, required and allowed values."""

    from deliverypack.docs import rulebook_page

    page = (ROOT / "docs" / "rulebook.md").read_text(
        encoding="utf-8")
    assert rulebook_page() == page, "docs/rulebook.md is stale: run `make docs`"
    assert ("| Attendances | number | no | 0 or more | - | - |" in page
            and "| Actual | percentage (98% or 98) | no | from 0% to 100% | 50% to 100% | - |"
            in page and "| Status | code | yes | one of the allowed values | - | Not started,"
            in page and "| `forecast-date-required` | error |" in page)


def test_a_meeting_records_cross_field_rules_come_from_the_rulebook(workspace, tmp_path):
    """A new action without an owner, a member represented by no one: the engine's
    messages, made by the same declarations as the template's formulas."""
    from conftest import block
    from deliverypack.returns.ingest import validate_file
    from deliverypack.sample.filler import fill_workbook

    record = issue_meeting_record(workspace, "EOL", dt.date(2004, 3, 8))
    spec = spec_of(workspace, record)
    new, att = block(spec, "new_actions"), block(spec, "attendance")
    bad = fill_workbook(record, spec, workspace.register, tmp_path / "bad.xlsx",
                        overrides={(new.name, 0, "owner"): None,
                                   (att.name, 0, "attendance"): "represented",
                                   (att.name, 0, "represented_by"): None})
    rep, _ = validate_file(workspace, bad)
    found = [i.message for i in rep.issues if i.code == "required-missing"]
    assert "expected an owner, found an empty cell" in found
    assert "expected who represented them, found an empty cell" in found
    assert not rep.valid
