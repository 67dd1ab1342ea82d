"""The demo's programme has a measure each school returns itself (LS2, predicted GCSE
results): `demo` issues and ingests the schools' own returns, and the DfES delivery
report's annex sets each school's latest figure, its change and its rank, as the ledger
holds them. The tests' and `init --sample`'s programme is unchanged."""

from __future__ import annotations

from docx import Document

from deliverypack.foundation.periods import period_label

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
    body = list(doc.element.body.iterchildren())
    texts = ["".join(t.text or "" for t in el.iter() if t.tag.endswith("}t")) for el in body]
    start = next(k for k, t in enumerate(texts) if t.startswith(heading_start))
    tbl = next(el for el in body[start:] if el.tag.endswith("}tbl"))
    return next(t for t in doc.tables if t._tbl is tbl), texts[start + 1]


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
        "Rank", "Organisation", period_label(latest), "Change on previous", "Against the rest"]
    got = {r.cells[1].text: r for r in table.rows[1:]}
    assert set(got) == set(schools.values())
    higher = sorted((round(v, 1) for v in values[latest].values()), reverse=True)
    for org, name in schools.items():
        row = got[name].cells
        now, then = values[latest][org], values[before][org]
        assert row[2].text == f"{now:.1f}%"
        assert row[3].text == f"{now - then:+.1f}%"
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
