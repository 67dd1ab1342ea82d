"""Task forces and reports: meeting records, minutes, agenda packs, delivery reports, and
actions closing the loop between meetings and returns."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from docx import Document

from conftest import block, spec_of
from deliverypack.outputs.delivery_report import write_report
from deliverypack.outputs.documents import template
from deliverypack.outputs.minutes import RecordRejected, write_minutes
from deliverypack.sample.filler import fill_workbook
from deliverypack.sample.programme import SEED_TABLE
from deliverypack.taskforce import issue_meeting_record, meetings_of


def _text(doc) -> str:
    return "\n".join(p.text for p in doc.paragraphs)


def test_minutes_hold_distribution_attendees_numbered_record_and_actions(demo):
    ws, out = demo
    doc = Document(out["minutes"])
    text = _text(doc)
    assert "Earn or Learn Implementation Task Force" in text
    assert "Monday 15 September 2003" in text
    i = [p.text for p in doc.paragraphs].index("Distribution")
    assert "The Rt Hon Iain Duncan Smith MP" in doc.paragraphs[i + 1].text
    assert "Economic and Domestic Secretariat" not in doc.paragraphs[i + 1].text  # tight list
    assert "The Rt Hon Oliver Letwin MP, Chancellor of the Duchy of Lancaster" in text
    assert "(represented by Permanent Secretary, DCLG)" in text
    j = [p.text for p in doc.paragraphs].index("Apologies")
    assert doc.paragraphs[j + 1].text == "The Rt Hon Greg Hands MP"
    numbered = [p.text for p in doc.paragraphs if p.text[:2].rstrip(".").isdigit()
                and "\t" in p.text]
    assert [int(p.split(".")[0]) for p in numbered] == list(range(1, len(numbered) + 1))
    assert len(numbered) == 8  # six paragraphs of discussion, two decisions
    table = doc.tables[-1]
    rows = [[c.text for c in r.cells] for r in table.rows]
    assert rows[0] == ["No.", "Action", "Owner", "Due"]
    assert [r[0] for r in rows[1:]] == ["EOL-01-A01", "EOL-01-A02", "EOL-01-A03"]
    assert rows[2][2] == "Minister of State for Employment" and rows[2][3] == "20 Oct 2003"
    for part in (doc.sections[0].header, doc.sections[0].footer):
        assert "OFFICIAL-SENSITIVE" in part.paragraphs[0].text


def test_action_from_meeting_one_reaches_the_return_and_the_next_pack(demo):
    ws, out = demo
    dwp = ws.outbox("2003-12") / "DWP-2003-12.xlsx"
    actions = block(spec_of(ws, dwp), "actions")
    assert "EOL-01-A02" in {r["id"] for r in actions.rows}
    # DWP's December return updated it; the pack for meeting 2 shows the new status
    updates = ws.ledger.action_updates("EOL-01-A02")
    assert updates and updates[-1]["sheet"] == "Actions"
    doc = Document(out["agenda pack (EOL, next meeting)"])
    tracker = next(t for t in doc.tables if t.rows[1].cells[0].text == "EOL-01-A01")
    rows = {r.cells[0].text: r.cells[4].text for r in tracker.rows[1:]}
    assert rows["EOL-01-A02"].startswith(updates[-1]["status"])
    assert "OVERDUE" in rows["EOL-01-A01"]  # BIS never returned in December: still open


def test_agenda_pack_lists_attendance_dashboard_charts_and_annex(demo):
    ws, out = demo
    doc = Document(out["agenda pack (EOL, next meeting)"])
    text = _text(doc)
    assert "Ministers: The Rt Hon Matt Hancock MP" in text
    assert "Secretariat: Economic and Domestic Secretariat" in text
    dash = next(t for t in doc.tables if t.rows[0].cells[0].text == "Measure")
    names = [r.cells[0].text for r in dash.rows[1:]]
    assert names == ["Net new jobs since July 2002", "Apprenticeship starts in the quarter"]
    assert {r.cells[3].text for r in dash.rows[1:]} <= {"G", "AG", "AR", "R"}
    assert len(doc.inline_shapes) == 2  # a trajectory chart per measure
    assert "Annex: detailed analysis" in text


def test_delivery_report_reproduces_the_seed_table(demo):
    ws, out = demo
    doc = Document(out["delivery report (Home Office)"])
    table = doc.tables[0]
    assert table.cell(0, 1).text == "December 2002" and table.cell(0, 11).text == \
        "December 2003"
    titles = [table.cell(r, 0).text for r in range(2, len(table.rows))]
    assert titles[0] == "Ensure effective asylum process"
    for k, rid in enumerate(("2002-12", "2003-07", "2003-12")):
        got = tuple(table.cell(2, 1 + 5 * k + j).text for j in range(5))
        assert got == SEED_TABLE[rid]["HO1"]
    cell = table.cell(2, 15)  # December 2003 likelihood: G on green
    assert cell.text == "G" and 'w:fill="00B050"' in cell._tc.xml
    text = _text(doc)
    assert "1. Maintain ambition and challenge" in text
    assert "increasingly well managed and sustainable organisation" in text


def test_invalid_meeting_record_is_refused_and_stores_nothing(demo_copy, tmp_path):
    ws2 = demo_copy
    record = issue_meeting_record(ws2, "EOL", dt.date(2004, 3, 8))
    spec = spec_of(ws2, record)
    new = block(spec, "new_actions")
    bad = fill_workbook(record, spec, ws2.register, tmp_path / "bad.xlsx", overrides={
        (new.name, 0, "owner"): None, (new.name, 1, "due"): dt.date(2004, 1, 1)})
    before = len(meetings_of(ws2.ledger, "EOL"))
    with pytest.raises(RecordRejected) as exc:
        write_minutes(ws2, bad)
    flat = exc.value.report.flatten(("code", "sheet"))
    assert ["required-missing", "Actions"] in flat and ["due-before-meeting", "Actions"] in flat
    due = next(i for i in exc.value.report.issues if i.code == "due-before-meeting")
    assert "01 Jan 2004" in due.message and due.cell
    assert len(meetings_of(ws2.ledger, "EOL")) == before
    assert not [a for a in ws2.ledger.actions() if a["id"].startswith("EOL-03")]


def test_text_from_returns_is_escaped_not_lost(demo_copy, tmp_path):
    ws = demo_copy
    led = ws.ledger
    led.db.execute("UPDATE texts SET text='R&D <draft> =1+1' WHERE kind='dept_narrative' "
                   "AND department='HO' AND round='2003-12'")
    out = write_report(ws, "2003-12", "HO", target=tmp_path / "r.docx")
    assert "R&D <draft> =1+1" in _text(Document(out))


def test_every_shipped_word_template_declares_only_what_we_give(demo_copy, tmp_path,
                                                                monkeypatch):
    """Each shipped template asks only for values its writer gives, and uses all of them."""
    from deliverypack.outputs import agenda_pack, delivery_report, documents
    from deliverypack.outputs.minutes import minutes_context

    ws = demo_copy
    asked: dict[str, tuple[set[str], set[str]]] = {}

    def spy(tpl, context, target):
        asked[Path(tpl.template_file).stem] = (tpl.get_undeclared_template_variables(),
                                               set(context))
        return documents.render(tpl, context, target)
    for module in (agenda_pack, delivery_report):
        monkeypatch.setattr(module, "render", spy)
    agenda_pack.write_pack(ws, "EOL", dt.date(2004, 3, 8), target=tmp_path / "p.docx")
    write_report(ws, "2003-12", "HO", target=tmp_path / "r.docx")
    meeting = meetings_of(ws.ledger, "EOL")[0]
    asked["minutes"] = (template("minutes").get_undeclared_template_variables(),
                        set(minutes_context(ws, meeting)))
    assert set(asked) == {"minutes", "agenda_pack", "delivery_report"}
    for name, (declared, given) in asked.items():
        assert declared, f"{name}: no tags at all"
        assert declared <= given, f"{name} asks for what no writer gives: {declared - given}"
        assert given <= declared, f"{name} is given values it never shows: {given - declared}"


def test_minutes_refuse_a_workbook_that_is_not_a_meeting_record(demo_copy):
    from deliverypack.errors import UsageError
    ws = demo_copy
    before = ws.ledger.query("SELECT count(*) FROM submissions")[0][0]
    with pytest.raises(UsageError, match="is not a meeting record \\(it is a return\\)"):
        write_minutes(ws, ws.outbox("2003-12") / "HO-2003-12.xlsx")
    assert ws.ledger.query("SELECT count(*) FROM submissions")[0][0] == before


def test_a_taskforce_owns_its_actions_exactly_not_by_prefix(ws):
    """Task force EOL's agenda pack must not carry task force EOL2's actions."""
    from deliverypack.taskforce import meeting_origin, open_actions_for

    led = ws.ledger
    for aid, origin in [("EOL-01-A01", meeting_origin("EOL", "EOL-01")),
                        ("EOL2-01-A01", meeting_origin("EOL2", "EOL2-01")),
                        ("R1", "Task force EOL"), ("R2", "Task force EOLX")]:
        led.upsert_action({"id": aid, "description": "An action", "owner": "Someone",
                           "due": "2004-01-01", "origin": origin})
    ids = {a["id"] for a in open_actions_for(ws.register, led, "EOL")}
    assert {"EOL-01-A01", "R1"} <= ids
    assert not ids & {"EOL2-01-A01", "R2"}
