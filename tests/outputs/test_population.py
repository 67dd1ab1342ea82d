"""A count by organisation is ranked and rated per 100,000 people where the register gives
each organisation's population (issue 15: the largest forces were red for being large);
without one it is ranked but not rated, and the deck and master say which."""

from __future__ import annotations

from openpyxl import load_workbook

from deliverypack.consolidation.league import League, league, rag_basis
from deliverypack.foundation.domain import Measure
from deliverypack.validation.register import read_register


def _knife() -> Measure:
    return Measure(id="K", priority_id="P", name="Knife crime offences", unit="count",
                   direction="down", target=7500, target_period="2018-03", breakdown="force")


def _rows(pops: dict[str, float | None]) -> list[dict]:
    counts = {"met": 3600, "wmids": 900, "avon": 110, "sussex": 198}
    before = {"met": 3400, "wmids": 950, "avon": 100, "sussex": 200}
    return [{"org": o, "name": o, "value": counts[o], "previous": before[o],
             "population": pops.get(o)} for o in counts]


POPS = {"met": 8_800_000, "wmids": 2_900_000, "avon": 1_700_000, "sussex": 1_700_000}


def test_a_count_with_populations_is_ranked_and_rated_per_100000_people():
    m = _knife()
    rows = _rows(POPS)
    assert rag_basis(m, rows) == "population-quartile"
    table = league(rows, measure=m)
    rates = {r.org: round(r.rate, 1) for r in table}
    assert rates == {"met": 40.9, "wmids": 31.0, "avon": 6.5, "sussex": 11.6}
    assert [r.org for r in table] == ["avon", "sussex", "wmids", "met"]  # fewest per head
    assert [r.rag for r in table] == ["G", "AG", "AR", "R"]
    met = table[-1]
    assert round(met.previous, 1) == 38.6 and round(met.change, 1) == 2.3  # per head too
    lg = League("2017-09", table, None, {}, "population-quartile", 4)
    assert lg.per == "per 100,000 people"
    assert lg.rag_words(m) == "RAG by quartile of the rate per 100,000 people"


def test_without_every_population_a_count_is_not_rated():
    m = _knife()
    rows = _rows({**POPS, "sussex": None})
    assert rag_basis(m, rows) == "none"
    table = league(rows, measure=m)
    assert {r.rag for r in table} == {""} and all(r.rate is None for r in table)
    lg = League("2017-09", table, None, {}, "none", 4)
    assert lg.per == "" and lg.rag_words(m).startswith("Not RAG-rated")


def test_the_register_reads_a_population_and_refuses_one_of_zero(workspace, tmp_path):
    wb = load_workbook(workspace.register_path)
    sh = wb["Organisations"]
    head = {c.value: c.column for c in sh[1]}
    assert "population" in head
    first, second = sh.cell(row=2, column=1).value, sh.cell(row=3, column=1).value
    sh.cell(row=2, column=head["population"]).value = 250_000
    sh.cell(row=3, column=head["population"]).value = 0
    p = tmp_path / "register.xlsx"
    wb.save(p)
    reg, _, issues = read_register(p)
    assert next(o for o in reg.organisations if o.id == first).population == 250_000
    [bad] = [i for i in issues if i.code == "out-of-range" and i.sheet == "Organisations"]
    assert f"a population above 0 for organisation {second}, or blank" in bad.message
    assert bad.cell == f"{chr(64 + head['population'])}3"


def test_the_real_programmes_knife_crime_table_uses_the_registers_populations(tmp_path):
    """Knife crime by police force, from ../shared's real series: with a population typed
    for each force (test figures), the deck ranks and rates offences per 100,000 people,
    and the master heads its value column so; without, it says the count is not rated."""
    import pytest

    from realprogramme import LAST, REALDATA, build_real_programme
    if not REALDATA.exists():
        pytest.skip("../shared/data/realdata not present")
    from deliverypack.ledger.workspace import Workspace
    from deliverypack.outputs.deck import plan_deck

    workspace = build_real_programme(tmp_path / "real")
    before = next(s for s in plan_deck(workspace, LAST) if s.title == "Knife crime: league table")
    assert "Not RAG-rated: a count without a population" in before.subtitle
    assert {row[-1] for row in before.table[1:] if row[0]} == {"not rated"}
    assert before.table[0][0] == "Order" and "not ranked on performance" in before.subtitle
    wb = load_workbook(workspace.register_path)
    sh = wb["Organisations"]
    head = {c.value: c.column for c in sh[1]}
    for k, row in enumerate(sh.iter_rows(min_row=2), start=1):
        if row[head["kind"] - 1].value == "force":
            row[head["population"] - 1].value = 1_000_000 + 100_000 * k
    wb.save(workspace.register_path)
    workspace = Workspace.open(workspace.root)
    after = next(s for s in plan_deck(workspace, LAST) if s.title == "Knife crime: league table")
    assert after.table[0][:3] == ["Rank", "Organisation", "Sep 2017 (per 100,000 people)"]
    assert "RAG by quartile of the rate per 100,000 people" in after.subtitle
    shown = [row for row in after.table[1:] if row[0]]
    assert {row[-1] for row in shown} <= {"G", "AG", "AR", "R"}
    rates = [float(row[2].replace(",", "")) for row in shown]
    assert rates == sorted(rates)  # fewest offences per head first


def test_the_masters_league_tables_print_whole_codes_counts_and_a_page_each(tmp_path):
    """The real programme's master: borough codes (E08000001) fit their column, counts
    print as whole numbers, an unrated count claims no quartile, and each measure's table
    starts a page, under the sheet's title rather than another table's."""
    import pytest

    from realprogramme import LAST, REALDATA, build_real_programme
    if not REALDATA.exists():
        pytest.skip("../shared/data/realdata not present")
    from deliverypack.outputs.master import build_master

    workspace = build_real_programme(tmp_path / "real")
    sheet = load_workbook(build_master(workspace, LAST))["League tables"]
    codes = [c.value for c in sheet["B"] if isinstance(c.value, str) and c.value[:3] == "E08"]
    assert codes and sheet.column_dimensions["B"].width >= max(map(len, codes)) + 1
    titles = [c.row for c in sheet["A"] if isinstance(c.value, str) and ": " in c.value
              and c.value.split(":")[0] in ("AE", "KNIFE", "CLAIM")]
    assert len(titles) == 3
    assert [b.id for b in sheet.row_breaks.brk] == [t - 1 for t in titles[1:]]
    assert sheet.print_title_rows == "$1:$1"
    claim = titles[2] + 2  # the first borough's row (1-based): title, heading, rows
    value = sheet.cell(claim, 4)
    assert isinstance(value.value, int | float) and value.number_format == "#,##0"
    assert sheet.cell(claim, 7).value is None  # no quartile for a count not rated
    assert sheet.cell(titles[2] + 1, 15).value == "Not RAG-rated"  # its RAG heading
