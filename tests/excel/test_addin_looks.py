"""The add-in shows a problem cell as the feedback workbook and the template do (the
rulebook's fill, the feedback workbook's type): tested without Excel or xlwings."""

from __future__ import annotations

from openpyxl import load_workbook

from conftest import block, spec_of
from deliverypack.excel.addin import LOOKS, looks
from deliverypack.returns.ingest import ingest_file
from deliverypack.validation.cells import At


def _same(look, fill, font) -> None:
    assert str(fill.fgColor.rgb)[-6:] == look.fill[1:]
    assert str(font.color.rgb)[-6:] == look.font[1:]
    assert (bool(font.b), bool(font.i)) == (look.bold, look.italic)


def test_the_addin_looks_are_the_feedback_workbooks_and_the_templates(workspace, filled):
    template = workspace.outbox("2002-12") / "DfES-2002-12.xlsx"
    spec = spec_of(workspace, template)
    traj = block(spec, "traj")
    i = next(k for k, r in enumerate(traj.rows) if "actual" in r.get("_input", []))
    path = filled("DfES", overrides={(traj.name, i, "actual"): "n/a",
                                     (block(spec, "assess").name, 4, "now"): "Green"})
    rep = ingest_file(workspace, path)
    assert {x.severity for x in rep.issues} == {"error", "warning"}
    feedback = load_workbook(rep.feedback)
    shown = looks(rep.issues)
    for issue in rep.issues:
        cell = feedback[issue.sheet][issue.cell]
        assert shown[(issue.sheet, issue.cell)] == LOOKS[issue.severity]
        _same(LOOKS[issue.severity], cell.fill, cell.font)
    # the template's own formatting marks a broken value with the same fill and type
    dxfs = [r.dxf for sheet in load_workbook(template) for cf in sheet.conditional_formatting
            for r in cf.rules if r.dxf is not None and r.dxf.fill is not None]
    for severity, look in LOOKS.items():
        marked = [d for d in dxfs if str(d.fill.fgColor.rgb).endswith(look.fill[1:])]
        assert marked, f"no {severity} formatting in the template"
        for d in marked:
            _same(look, d.fill, d.font)


def test_a_cell_with_an_error_and_a_warning_looks_like_an_error():
    at = At("Sheet", "B4", "x.xlsx")
    issues = [at.issue("value-normalised", found="'g'", expected="G"),
              at.issue("not-a-number", found="'n/a'"),
              At("Sheet", "B5", "x.xlsx").issue("implausible-value", found=5)]
    assert looks(issues) == {("Sheet", "B4"): LOOKS["error"],
                             ("Sheet", "B5"): LOOKS["warning"]}
    assert LOOKS["error"].fill != LOOKS["warning"].fill
