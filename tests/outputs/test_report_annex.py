"""The demo's programme has a measure each school returns itself (LS2, predicted GCSE
results): `demo` issues and ingests the schools' own returns, and the DfES delivery
report's annex sets each school's latest figure, its change and its rank, as the ledger
holds them. The tests' and `init --sample`'s programme is unchanged."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from docx import Document

from conftest import needs_soffice, soffice_convert
from deliverypack.foundation.domain import TaskForce
from deliverypack.foundation.periods import period_label
from deliverypack.ledger.workspace import Workspace
from deliverypack.outputs.agenda_pack import write_pack

CURRENT = ("s.status='accepted' AND s.superseded_by IS NULL AND s.round<=?")


def _ledger_actuals(workspace, measure: str, round_id: str) -> dict[str, dict[str, float]]:
    """period -> organisation -> figure, read from the ledger's rows directly."""
    rows = workspace.ledger.query(
        "SELECT v.org_id, v.period, v.value, s.kind FROM measure_values v JOIN submissions s "
        f"ON s.id=v.submission_id WHERE {CURRENT} AND v.measure_id=? AND v.org_id<>'' "
        "AND v.field='actual' ORDER BY s.id", round_id, measure)
    out: dict[str, dict[str, float]] = {}
    for r in rows:
        assert r["kind"] == "org_return"  # the schools' own returns, not the department's
        out.setdefault(r["period"], {})[r["org_id"]] = r["value"]
    return out


def _annex_table(doc, heading_start: str):
    """The table after the annex heading that starts with `heading_start`."""
    table, between = _table_after(doc, heading_start)
    return table, between[0]


def _table_after(doc, heading_start: str):
    """The first table after the paragraph that starts with `heading_start`, and the texts
    of the paragraphs between them."""
    body = list(doc.element.body.iterchildren())
    texts = ["".join(t.text or "" for t in el.iter() if t.tag.endswith("}t")) for el in body]
    start = next(k for k, t in enumerate(texts) if t.startswith(heading_start))
    end = next(k for k in range(start, len(body)) if body[k].tag.endswith("}tbl"))
    return next(t for t in doc.tables if t._tbl is body[end]), texts[start + 1:end]


def _assert_standard_told_true(workspace, table, sentence: str) -> None:
    """LS2's table and the sentence above it agree with the ledger's figures: the column
    headed by the 40.0% standard says 'below' of every school below it and 'meets' of the
    rest, the sentence counts the schools below as the rows do, and the standing among the
    schools (the funnel limits) sits in its own column, never under the standard's name."""
    m = workspace.register.measure("LS2")
    assert m.target == 40 and m.direction == "up"
    names = {o.id: o.name for o in workspace.register.organisations_for(m)}
    figures = _ledger_actuals(workspace, "LS2", "2003-12")["2003-12"]
    value = {names[o]: v for o, v in figures.items()}
    fields = workspace.ledger.query(
        "SELECT v.field, SUM(v.value) AS total FROM measure_values v JOIN submissions s "
        f"ON s.id=v.submission_id WHERE {CURRENT} AND v.measure_id='LS2' AND v.org_id<>'' "
        "AND v.period='2003-12' GROUP BY v.field", "2003-12")
    total = {r["field"]: r["total"] for r in fields}
    pooled = f"{100 * total['numerator'] / total['denominator']:.1f}%"
    heads = [c.text for c in table.rows[0].cells]
    std = heads.index("Against the 40.0% standard")
    rest = heads.index(f"Against the rate for all ({pooled})")
    below = 0
    for row in table.rows[1:]:
        cells = [c.text for c in row.cells]
        v = value[cells[1]]
        if v < 40:
            below += 1
            assert re.fullmatch(r"\d+\.\d points below \((AG|AR|R)\)", cells[std]), cells
        else:
            assert cells[std] == "meets (G)", cells
        assert cells[rest] in {"within limits", "worse (95% limit)", "worse (99.8% limit)",
                               "better (95% limit)", "better (99.8% limit)"}, cells
    assert 0 < below < len(value)  # the demo's figures: some schools either side
    assert "RAG against the 40.0% standard" not in sentence.replace(
        "Against the 40.0% standard: its RAG against the standard", "")
    assert f"Against the 40.0% standard: its RAG against the standard; {below} of " \
        f"{len(value)} schools are below it." in sentence
    assert "Against the rate for all: whether a school differs from the rate for all 8 " \
        f"schools ({pooled})" in sentence and "not against any standard" in sentence


def test_the_report_annex_says_which_schools_are_below_the_standard(demo):
    """Today's sentence names the standard's RAG while the column held each school's
    standing among the schools ('within limits' for schools below 40%)."""
    workspace, out = demo
    doc = Document(out["delivery report (DfES, by school)"])
    m = workspace.register.measure("LS2")
    table, between = _table_after(doc, f"A2. {m.name}")
    _assert_standard_told_true(workspace, table, " ".join(between))


def test_the_agenda_pack_annex_says_which_schools_are_below_the_standard(demo, tmp_path):
    """The pack sets the same table with the same sentence: a task force on the London
    priorities gets LS2 by school in its annex."""
    workspace = Workspace.open(demo[0].root)  # its own register, so the demo's is untouched
    workspace.register.taskforces.append(TaskForce(
        id="LDN", name="London Schools Task Force", chair="Commissioner for London Schools",
        priorities=["DfES1", "DfES2"]))
    path = write_pack(workspace, "LDN", dt.date(2004, 1, 26), target=tmp_path / "pack.docx")
    doc = Document(str(path))
    m = workspace.register.measure("LS2")
    heads = [k for k, p in enumerate(doc.paragraphs) if p.text == m.name]
    assert heads, "the pack's annex has no section for LS2"
    table, between = _table_after(doc, f"{m.name}: ")  # the performance sentence opens it
    _assert_standard_told_true(workspace, table, " ".join(between))


def test_the_demo_ingests_the_schools_returns_and_the_report_sets_each_figure(demo):
    workspace, out = demo
    reg = workspace.register
    m = reg.measure("LS2")
    assert m.returned_by == "organisation" and m.breakdown == "school"
    schools = {o.id: o.name for o in reg.organisations_for(m)}
    for rnd in ("2002-12", "2003-07", "2003-12"):
        sent = workspace.ledger.query(
            "SELECT file_name FROM submissions WHERE kind='org_return' AND status='accepted' "
            "AND round=?", rnd)
        assert sorted(r["file_name"] for r in sent) == sorted(f"{o}-{rnd}.xlsx"
                                                             for o in schools)
    doc = Document(out["delivery report (DfES, by school)"])
    assert "Annex: figures by organisation" in [p.text for p in doc.paragraphs]
    table, intro = _annex_table(doc, f"A2. {m.name}")
    values = _ledger_actuals(workspace, "LS2", "2003-12")
    latest, before = sorted(values)[-1], sorted(values)[-2]
    assert f"Figures for {period_label(latest)} from each organisation's own return: " \
        f"8 of 8 schools." in intro
    assert latest == "2003-12" and before == "2003-09"  # quarterly
    assert [c.text for c in table.rows[0].cells] == [
        "Rank", "Organisation", period_label(latest), "Change on previous",
        "Against the rate for all (35.8%)", "Against the 40.0% standard"]
    got = {r.cells[1].text: r for r in table.rows[1:]}
    assert set(got) == set(schools.values())
    higher = sorted((round(v, 1) for v in values[latest].values()), reverse=True)
    for org, name in schools.items():
        row = got[name].cells
        now, then = values[latest][org], values[before][org]
        assert row[2].text == f"{now:.1f}%"
        assert row[3].text == f"{now - then:+.1f} points"  # a rate moves in points
        assert row[0].text.rstrip("=") == str(higher.index(round(now, 1)) + 1)
    # the department's own school breakdown (LS1) has its annex table too, before it
    table1, intro1 = _annex_table(doc, "A1. Attainment gap")
    assert "the school breakdown of the department's return" in intro1
    assert len(table1.rows) == 1 + len(schools)
    from deliverypack.sample.programme import sample_register  # the tests' programme: as it was
    assert "LS2" not in {x.id for x in sample_register().measures}


def test_a_department_without_organisations_has_no_annex(demo):
    _, out = demo
    doc = Document(out["delivery report (Home Office)"])
    assert "Annex: figures by organisation" not in [p.text for p in doc.paragraphs]


def test_a_figure_short_of_the_standard_is_never_said_to_meet_it(demo):
    """The words use the RAG's own test: a gap too small to print is still 'just below',
    and where lower is better the wrong side is 'above'."""
    from deliverypack.consolidation.rag import data_rag
    from deliverypack.outputs.facts import against_standard

    m = demo[0].register.measure("LS2")  # 40% standard, higher is better
    assert [against_standard(m, v) for v in (40.0, 41.5, 39.96, 37.2)] == [
        "meets", "meets", "just below", "2.8 points below"]
    assert data_rag(m, m.target, 39.96) == "AG"
    down = m.model_copy(update={"direction": "down"})
    assert [against_standard(down, v) for v in (40.0, 38.0, 42.5)] == [
        "meets", "meets", "2.5 points above"]


def _page_fill(pdf) -> list[tuple[bool, float]]:
    """Per printed page: (landscape, how far down the page its body reaches, 0 to 1), the
    marking and page number left out; text, table rules and pictures all count."""
    pdfplumber = pytest.importorskip("pdfplumber")
    furniture = re.compile(r"^(RESTRICTED|–|POLICY|Page|\d+)$")
    out = []
    with pdfplumber.open(pdf) as doc:
        for page in doc.pages:
            lows = [w["bottom"] for w in page.extract_words() if not furniture.match(w["text"])]
            lows += [x["bottom"] for x in (*page.images, *page.rects)]
            out.append((page.width > page.height, max(lows, default=0) / page.height))
    return out


@pytest.mark.soffice
@needs_soffice
@pytest.mark.parametrize("paper", ["delivery report (DfES, by school)",
                                   "delivery report (Home Office)"])
def test_no_page_of_the_report_is_left_mostly_blank(demo, tmp_path, paper):
    """A page ends early only where the report turns to or from the landscape framework
    table, or at the end: never because the annex was forced onto a fresh page after a
    recommendation pushed over by its own length (the DfES report's page 4 was 11% full)."""
    pages = _page_fill(soffice_convert(demo[1][paper], "pdf", tmp_path))
    for k, (landscape, fill) in enumerate(pages[:-1]):
        if pages[k + 1][0] == landscape:  # the next page is in the same section's turn
            assert fill > 0.5, f"page {k + 1} of {len(pages)} is {fill:.0%} full"
