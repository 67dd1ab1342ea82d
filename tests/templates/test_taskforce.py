"""Task forces and reports: meeting records, minutes, agenda packs, delivery reports, and
actions closing the loop between meetings and returns."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from docx import Document

from conftest import block, spec_of
from deliverypack.outputs.delivery_report import write_report
from deliverypack.outputs.documents import RAG_HEX, template
from deliverypack.outputs.minutes import RecordRejected, write_minutes
from deliverypack.sample.filler import fill_workbook
from deliverypack.sample.programme import SEED_TABLE
from deliverypack.templates.taskforce import issue_meeting_record, meetings_of


def _text(doc) -> str:
    return "\n".join(p.text for p in doc.paragraphs)


def test_minutes_hold_distribution_attendees_numbered_record_and_actions(demo):
    workspace, out = demo
    doc = Document(out["minutes"])
    text = _text(doc)
    tf = workspace.register.taskforce("EOL")
    assert doc.paragraphs[0].text == tf.name  # the register's name, nothing appended
    assert "Task Force Implementation Task Force" not in text
    assert "held at 10:00 on Monday 15 September 2003, Conference Room A, 70 Whitehall" in text
    i = [p.text for p in doc.paragraphs].index("Distribution")
    assert "The Rt Hon Charles Clarke MP" in doc.paragraphs[i + 1].text
    assert "Helen Marsh" not in doc.paragraphs[i + 1].text  # tight list: no secretariat
    assert "Michael Barber, Chief Adviser to the Prime Minister on Delivery" in text
    assert "(represented by Simon Harcourt, Director General, DTI)" in text
    j = [p.text for p in doc.paragraphs].index("Apologies")
    assert doc.paragraphs[j + 1].text == "The Rt Hon Paul Boateng MP"
    numbered = [p.text for p in doc.paragraphs if p.text[:2].rstrip(".").isdigit()
                and "\t" in p.text]
    assert [int(p.split(".")[0]) for p in numbered] == list(range(1, len(numbered) + 1))
    assert len(numbered) == 7  # five paragraphs of discussion, two decisions
    table = doc.tables[-1]
    rows = [[c.text for c in r.cells] for r in table.rows]
    assert rows[0] == ["No.", "Action", "Owner", "Due"]
    assert [r[0] for r in rows[1:]] == ["EOL-01-A01", "EOL-01-A02", "EOL-01-A03"]
    assert rows[2][2] == "Des Browne MP" and rows[2][3] == "20 Oct 2003"
    assert "Monday 27 October 2003" in text  # next meeting, one six-week cycle on
    from deliverypack.templates.taskforce import meetings_of
    signed = dt.date.fromisoformat(meetings_of(workspace.ledger, "EOL")[0]["record"]["issued"])
    assert dt.date(2003, 9, 16) <= signed <= dt.date(2003, 9, 25)  # the secretariat's sign-off
    assert f"Issued {signed:%d %B %Y}" in text and "Helen Marsh" in text
    assert workspace.marking == "RESTRICTED – POLICY"
    for part in (doc.sections[0].header, doc.sections[0].footer):
        assert workspace.marking in part.paragraphs[0].text
    for word in ("Implementation Unit", "OFFICIAL", "Hancock", "levy", "BIS "):
        assert word not in text


def test_minutes_of_a_first_meeting_have_no_matters_arising(demo):
    workspace, out = demo
    text = _text(Document(out["minutes"]))
    assert not meetings_of(workspace.ledger, "EOL")[0]["date"] > "2003-09-15"
    for phrase in ("Matters arising", "from the last meeting", "remain open"):
        assert phrase not in text
    assert text.count("(lead: ") == 4  # pack, two priorities, any other business


def test_minutes_state_the_figures_the_ledger_held(demo):
    """The performance paragraph says rise or fall and the run below trajectory as the data
    does (the apprenticeship starts rose while below trajectory)."""
    from deliverypack.consolidation.views import measure_series
    from deliverypack.outputs.facts import measure_facts

    workspace, out = demo
    para = next(p.text for p in Document(out["minutes"]).paragraphs
                if "presented the performance pack" in p.text)
    s = measure_series(workspace.register, workspace.ledger, workspace.register.measure("APP1"),
                       "2003-07")
    f = measure_facts(s)
    assert f.change is not None and f.periods_behind == 4
    assert "Apprenticeship starts in the quarter" in para
    part = para[para.index("Apprenticeship starts"):]
    assert ("Up " if f.change > 0 else "Down ") in part
    assert "below trajectory for the fourth quarter running" in part


def test_action_from_meeting_one_reaches_the_return_and_the_next_pack(demo):
    workspace, out = demo
    dwp = workspace.outbox("2003-12") / "DWP-2003-12.xlsx"
    actions = block(spec_of(workspace, dwp), "actions")
    assert "EOL-01-A02" in {r["id"] for r in actions.rows}
    # DWP's December return updated it; the pack for meeting 2 shows the new status
    updates = workspace.ledger.action_updates("EOL-01-A02")
    assert updates and updates[-1]["sheet"] == "Actions"
    doc = Document(out["agenda pack (EOL, next meeting)"])
    tracker = next(t for t in doc.tables if t.rows[1].cells[0].text == "EOL-01-A01")
    rows = {r.cells[0].text: r.cells[4].text for r in tracker.rows[1:]}
    assert rows["EOL-01-A02"].startswith(updates[-1]["status"])
    assert "OVERDUE" in rows["EOL-01-A01"]  # BIS never returned in December: still open


def test_agenda_pack_lists_attendance_dashboard_charts_and_annex(demo):
    workspace, out = demo
    doc = Document(out["agenda pack (EOL, next meeting)"])
    text = _text(doc)
    assert "The Rt Hon Andrew Smith MP, Secretary of State for Work and Pensions" in text
    assert "Helen Marsh, Secretary to the task force" in text
    agenda = next(t for t in doc.tables if t.rows[0].cells[0].text == "Time")
    rows = [[c.text for c in r.cells] for r in agenda.rows[1:]]
    assert [r[0] for r in rows] == ["10:00", "10:10", "10:30", "10:55", "11:20", "11:25"]
    assert rows[0][2].startswith("Matters arising") and rows[0][4].startswith("EOL(04) 1")
    assert rows[1][3] == workspace.unit_name and rows[1][4].startswith("EOL(04) 2")
    assert rows[3][3] == "Ruth Adebayo, Director of Learning, LSC"  # named, not a role
    dash = next(t for t in doc.tables if t.rows[0].cells[0].text == "Measure")
    names = [r.cells[0].text for r in dash.rows[1:]]
    assert names == ["Net new jobs since July 2002", "Apprenticeship starts in the quarter"]
    assert {r.cells[4].text for r in dash.rows[1:]} <= {"G", "AG", "AR", "R"}
    assert len(doc.inline_shapes) == 2  # a trajectory chart per measure
    assert "Annex: analysis of the figures" in text
    assert "falls 19 weeks after the last (15 September 2003)" in text  # off its cycle
    assert "Below trajectory in 4 of 4 quarters with figures." in text


def test_pack_trends_and_letters_agree_with_the_data_rag(demo):
    """Trend talks about the gap to trajectory, so it never says 'ahead' beside a shortfall;
    the RAG letter is bold in the ink that reads on its fill, centred."""
    from deliverypack.consolidation.views import measure_series
    from deliverypack.outputs.documents import RAG_HEX, RAG_INK
    from deliverypack.outputs.facts import round_as_of

    workspace, out = demo
    doc = Document(out["agenda pack (EOL, next meeting)"])
    dash = next(t for t in doc.tables if t.rows[0].cells[0].text == "Measure")
    rid = round_as_of(workspace.register, dt.date(2004, 1, 26))
    seen = set()
    for row, m in zip(dash.rows[1:], workspace.register.measures_of("DWP1") +
                      workspace.register.measures_of("BIS1"), strict=True):
        s = measure_series(workspace.register, workspace.ledger, m, rid)
        rag, trend = row.cells[4].text, row.cells[5].text
        assert rag == s.rag
        assert trend.startswith("ahead" if rag == "G" else "behind"), (rag, trend)
        assert row.cells[1].text.replace(",", "") == f"{s.latest_actual:.0f}"
        cell = row.cells[4]
        assert f'w:fill="{RAG_HEX[rag]}"' in cell._tc.xml
        run = next(r for r in cell.paragraphs[0].runs if r.text == rag)
        assert run.bold and str(run.font.color.rgb) == RAG_INK[rag]
        assert cell.paragraphs[0].alignment == 1  # centred
        seen.add(rag)
    assert {"G", "R"} <= seen  # one measure ahead, one behind: both cases are checked
    # the apprenticeship figure is June's: no December return, and the pack says so
    assert dash.rows[2].cells[2].text == "as of Jun 2003 — no return"


def test_delivery_report_reproduces_the_seed_table(demo):
    workspace, out = demo
    doc = Document(out["delivery report (Home Office)"])
    table = next(t for t in doc.tables if t.cell(0, 0).text == "Assessment of Delivery")
    assert table.cell(0, 1).text == "December 2002" and table.cell(0, 11).text == \
        "December 2003"
    heads = {table.cell(1, c).text for c in range(1, 16)}
    assert all(" " not in h and len(h) <= 6 for h in heads)  # one short word: never broken
    titles = [table.cell(r, 0).text for r in range(2, len(table.rows))]
    assert titles[0] == "Ensure effective asylum process"
    for pid_row, pid in enumerate(SEED_TABLE["2002-12"], start=2):
        for k, rid in enumerate(("2002-12", "2003-07", "2003-12")):
            got = tuple(table.cell(pid_row, 1 + 5 * k + j).text for j in range(5))
            assert got == SEED_TABLE[rid][pid]
    cell = table.cell(2, 15)  # December 2003 likelihood: G on green
    assert cell.text == "G" and f'w:fill="{RAG_HEX["G"]}"' in cell._tc.xml
    text = _text(doc)
    assert "1. Maintain ambition and challenge" in text
    assert "Progress on the challenges of the last delivery report" in text
    assert "increasingly well managed and sustainable organisation" in text


def test_delivery_report_front_page_and_orientation(demo):
    from docx.enum.section import WD_ORIENT
    workspace, out = demo
    doc = Document(out["delivery report (Home Office)"])
    front = {r.cells[0].text: r.cells[1].text for r in doc.tables[0].rows}
    assert front["To"] == "The Prime Minister" and front["From"] == workspace.unit_name
    assert front["Protective marking"] == workspace.marking and front["Date of issue"]
    assert front["Contact"]
    summary = doc.paragraphs[[p.text for p in doc.paragraphs].index("Summary") + 1].text
    assert summary.startswith("The unit judges 7 of the Home Office's 7 priorities")
    orient = [s.orientation for s in doc.sections]
    assert orient == [WD_ORIENT.PORTRAIT, WD_ORIENT.LANDSCAPE, WD_ORIENT.PORTRAIT]


def _priority_block(doc, title: str) -> str:
    """The text of one priority's part of the report: heading, table, paragraphs."""
    body = doc.element.body
    out, inside = [], False
    for el in body.iterchildren():
        text = "".join(t.text or "" for t in el.iter() if t.tag.endswith("}t"))
        if el.tag.endswith("}p") and "Heading2" in (el.xpath("string(.//w:pStyle/@w:val)")
                                                      or ""):
            inside = title in text
            if not inside and out:
                break
        if inside:
            out.append(text)
    return "\n".join(out)


def test_off_track_priority_says_so_with_its_figures(demo):
    """HO2's 4,400 target for Sep 2003 passed unmet; the unit still rates it green. The report
    says so with the figures, shows the flag, and keeps the unit's judgement."""
    from deliverypack.consolidation.views import measure_series

    workspace, out = demo
    doc = Document(out["delivery report (Home Office)"])
    block = _priority_block(doc, "Reducing significantly unfounded asylum claims")
    s = measure_series(workspace.register, workspace.ledger, workspace.register.measure("ASY2"),
                       "2003-12")
    assert s.rag in ("AR", "R")
    assert "Target date passed unmet." in block
    actual = f"{s.latest_actual:,.0f}"
    assert f"{actual} in Dec 2003 against a trajectory of {s.latest_planned:,.0f}" in block
    assert "off track by" in block
    assert "has passed unmet" in block  # the assurance flag, from assurance.py
    assert "Green (G)" in block  # the unit's rating, unchanged by the flag


def test_deck_and_report_give_one_recommendation_per_priority(demo):
    from pptx import Presentation

    from deliverypack.consolidation.assurance import decisions_sought

    workspace, out = demo
    recs = decisions_sought(workspace.register, workspace.ledger, "2003-12")
    doc = Document(out["delivery report (Home Office)"])
    prs = Presentation(out["stocktake deck"])
    deck_text = "\n".join(sh.text_frame.text for sl in prs.slides for sh in sl.shapes
                          if sh.has_text_frame)
    for pr in workspace.register.priorities_of("HO"):
        block = _priority_block(doc, pr.title)
        assert block.count("Recommendation (owner: ") == 1
        assert f"Recommendation (owner: {pr.lead}). {recs[pr.id].text}" in block
        assert recs[pr.id].text in deck_text, pr.id
    texts = [recs[p.id].text for p in workspace.register.priorities_of("HO")]
    assert len(set(texts)) == len(texts)  # each priority its own recommendation


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
    workspace = demo_copy
    led = workspace.ledger
    led.db.execute("UPDATE texts SET text='R&D <draft> =1+1' WHERE kind='dept_narrative' "
                   "AND department='HO' AND round='2003-12'")
    out = write_report(workspace, "2003-12", "HO", target=tmp_path / "r.docx")
    assert "R&D <draft> =1+1" in _text(Document(out))


def test_every_shipped_word_template_declares_only_what_we_give(demo_copy, tmp_path,
                                                                monkeypatch):
    """Each shipped template asks only for values its writer gives, and uses all of them."""
    from deliverypack.outputs import agenda_pack, delivery_report, documents
    from deliverypack.outputs.minutes import minutes_context

    workspace = demo_copy
    asked: dict[str, tuple[set[str], set[str]]] = {}

    def spy(tpl, context, target):
        asked[Path(tpl.template_file).stem] = (tpl.get_undeclared_template_variables(),
                                               set(context))
        return documents.render(tpl, context, target)
    for module in (agenda_pack, delivery_report):
        monkeypatch.setattr(module, "render", spy)
    agenda_pack.write_pack(workspace, "EOL", dt.date(2004, 3, 8), target=tmp_path / "p.docx")
    write_report(workspace, "2003-12", "HO", target=tmp_path / "r.docx")
    meeting = meetings_of(workspace.ledger, "EOL")[0]
    asked["minutes"] = (template("minutes").get_undeclared_template_variables(),
                        set(minutes_context(workspace, meeting)))
    assert set(asked) == {"minutes", "agenda_pack", "delivery_report"}
    for name, (declared, given) in asked.items():
        assert declared, f"{name}: no tags at all"
        assert declared <= given, f"{name} asks for what no writer gives: {declared - given}"
        assert given <= declared, f"{name} is given values it never shows: {given - declared}"


def test_minutes_refuse_a_workbook_that_is_not_a_meeting_record(demo_copy):
    from deliverypack.foundation.errors import UsageError
    workspace = demo_copy
    before = workspace.ledger.query("SELECT count(*) FROM submissions")[0][0]
    with pytest.raises(UsageError, match="is not a meeting record \\(it is a return\\)"):
        write_minutes(workspace, workspace.outbox("2003-12") / "HO-2003-12.xlsx")
    assert workspace.ledger.query("SELECT count(*) FROM submissions")[0][0] == before


def test_a_taskforce_owns_its_actions_exactly_not_by_prefix(workspace):
    """Task force EOL's agenda pack must not carry task force EOL2's actions."""
    from deliverypack.templates.taskforce import meeting_origin, open_actions_for

    led = workspace.ledger
    for aid, origin in [("EOL-01-A01", meeting_origin("EOL", "EOL-01")),
                        ("EOL2-01-A01", meeting_origin("EOL2", "EOL2-01")),
                        ("R1", "Task force EOL"), ("R2", "Task force EOLX")]:
        led.upsert_action({"id": aid, "description": "An action", "owner": "Someone",
                           "due": "2004-01-01", "origin": origin})
    ids = {a["id"] for a in open_actions_for(workspace.register, led, "EOL")}
    assert {"EOL-01-A01", "R1"} <= ids
    assert not ids & {"EOL2-01-A01", "R2"}
