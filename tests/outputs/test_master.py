"""The master workbook, opened again with openpyxl and pandas: values, charts, order."""

from __future__ import annotations

import csv
import math
import zipfile

import pandas as pd
import pytest
from openpyxl import load_workbook

from conftest import REALDATA, needs_shared
from deliverypack.consolidation.league import league
from deliverypack.consolidation.rag import data_rag
from deliverypack.foundation.domain import Measure
from deliverypack.outputs.master import build_master
from deliverypack.sample.programme import SEED_TABLE


@pytest.fixture(scope="module")
def master(demo):
    return demo[1]["master workbook"]


def test_framework_table_reproduces_the_seed_for_the_home_office(master):
    sheet = load_workbook(master)["Assessment framework"]
    rows = {sheet.cell(row=r, column=1).value: r for r in range(6, sheet.max_row + 1)}
    assert sheet.cell(row=4, column=3).value == "December 2002"
    assert sheet.cell(row=4, column=8).value == "July 2003"
    assert sheet.cell(row=4, column=13).value == "December 2003"
    for k, rid in enumerate(("2002-12", "2003-07", "2003-12")):
        for pid, ratings in SEED_TABLE[rid].items():
            got = tuple(str(sheet.cell(row=rows[pid], column=3 + 5 * k + j).value)
                        for j in range(5))
            assert got == ratings, (pid, rid)
    # "Ensure effective asylum process", December 2003: H, AG, AG, 3, G, G filled green
    g = sheet.cell(row=rows["HO1"], column=17)
    assert g.value == "G" and g.fill.fgColor.rgb.endswith("00B050")
    assert sheet.merged_cells.ranges  # merged group headers


def test_summary_and_trajectory_values_come_from_the_ledger(master, demo_ws):
    df = pd.read_excel(master, engine="openpyxl", sheet_name="Summary", header=2)
    ae = df[df["Priority"] == "DH1"].iloc[0]
    latest = demo_ws.ledger.latest_values("actual")[("AE4", "", "2003-12")]
    assert ae["Latest actual"] == pytest.approx(latest["value"])
    assert ae["Likelihood December 2003"] in ("G", "AG", "AR", "R")
    assert ae["Measure"] == "Patients spending 4 hours or less in A&E"
    variance = "Variance: better (+) / worse (−) than trajectory"
    assert ae[variance] == pytest.approx(latest["value"] - ae["Trajectory"])  # up is good
    asy = df[df["Priority"] == "HO2"].iloc[0]  # down is good: fewer than planned is +
    assert asy[variance] == pytest.approx(asy["Trajectory"] - asy["Latest actual"])
    # one measure per row: every measure of the register once, each with its own figures
    measures = [m.name for m in demo_ws.register.measures]
    assert sorted(df["Measure"].dropna().loc[lambda x: x != "(no measure)"]) == sorted(measures)
    assert df[df["Priority"] == "BIS1"].iloc[0]["Assurance flags"].count(";") == 2

    wb = load_workbook(master)
    charts = wb["Trajectories"]._charts
    assert len(charts) == len(demo_ws.register.measures)
    with zipfile.ZipFile(master) as z:
        chart1 = z.read("xl/charts/chart1.xml").decode()
    assert chart1.count("<c:ser>") == 4  # planned, actual, the unit's and HO's forecasts
    assert "Trajectories!$B$" in chart1 and "Trajectories!$C$" in chart1 \
        and "Trajectories!$D$" in chart1 and "Trajectories!$E$" in chart1
    assert 'val="sysDash"' in chart1 or 'val="dash"' in chart1
    # a date axis in months (XlsxWriter leaves baseTimeUnit to Excel, which infers months)
    assert "<c:dateAx>" in chart1 and '<c:majorTimeUnit val="months"/>' in chart1
    # the chart sits beside its table: anchored right of the last table column
    drawing = wb["Trajectories"]._charts[0].anchor._from
    assert drawing.col >= 9


def test_every_sheet_prints_a4_landscape_with_the_marking(master, demo_ws):
    with zipfile.ZipFile(master) as z:
        sheets = [n for n in z.namelist() if n.startswith("xl/worksheets/sheet")]
        for name in sheets:
            xml = z.read(name).decode()
            assert 'paperSize="9"' in xml and 'orientation="landscape"' in xml, name
            assert f"&amp;L&amp;\"-,Bold\"{demo_ws.marking}" in xml, name  # header
            assert "Page &amp;P of &amp;N" in xml, name  # footer
            assert "&amp;D" not in xml  # no month-first printed date
        book = z.read("xl/workbook.xml").decode()
    wb = load_workbook(master)
    for sheet in wb.worksheets:  # print titles on every sheet
        assert sheet.print_title_rows, sheet.title
    assert "_xlnm.Print_Titles" in book


def test_wrapped_rows_are_tall_enough_and_units_print(master):
    wb = load_workbook(master)
    milestones = wb["Milestones"]
    tall = [r for r in range(2, milestones.max_row + 1)
            if len(str(milestones.cell(row=r, column=3).value or "")) > 40]
    assert tall and all((milestones.row_dimensions[r].height or 15) >= 30 for r in tall)
    summary = wb["Summary"]
    formats = {summary.cell(row=r, column=8).number_format
               for r in range(4, summary.max_row + 1)}
    assert '#,##0.0"%"' in formats and "#,##0" in formats
    flags = wb["Assurance flags"]
    rows = [[c.value for c in row] for row in flags.iter_rows(min_row=5)]
    assert ["BIS1", "Apprenticeships", "AG", None, "No return this round",
            "as of Jun 2003 — no return"] == rows[4][:6]


def test_regenerating_gives_identical_values(master, demo_ws, tmp_path):
    again = build_master(demo_ws, "2003-12", tmp_path / "again.xlsx")
    a, b = load_workbook(master), load_workbook(again)
    for name in a.sheetnames:
        va = [[c.value for c in row] for row in a[name].iter_rows()]
        vb = [[c.value for c in row] for row in b[name].iter_rows()]
        assert va == vb, name


def test_returns_log_and_data_quality(master):
    df = pd.read_excel(master, engine="openpyxl", sheet_name="Returns log")
    last = df[df["Round"] == "2003-12"].set_index("Department")
    assert last.loc["BIS", "Status"] == "not returned"
    assert last.loc["DWP", "Late"] == "late"
    assert last.loc["DH", "Attempts"] == 2
    dq = pd.read_excel(master, engine="openpyxl", sheet_name="Data quality")
    assert "not-a-number" in set(dq["Code"])


def test_formula_looking_text_is_written_as_a_string(demo_copy, tmp_path):
    demo_ws = demo_copy
    led = demo_ws.ledger
    sid = led.current_ids("return", "2003-12")[0]
    led.db.execute("INSERT INTO texts VALUES (?, '2003-12', 'HO', 'HO1', 'risk', 99, ?, '{}', "
                   "'x', 'A1')", (sid, '=HYPERLINK("http://evil","x")'))
    out = build_master(demo_ws, "2003-12", tmp_path / "m.xlsx")
    with zipfile.ZipFile(out) as z:  # the master holds values only: no formula anywhere
        assert not any(b"<f>" in z.read(n) or b"<f " in z.read(n) for n in z.namelist()
                       if n.startswith("xl/worksheets/"))
    risks = load_workbook(out)["Risks"]
    assert '=HYPERLINK("http://evil","x")' in [c.value for c in risks["C"]]


@pytest.mark.parametrize("direction,planned,actual,rag", [
    ("up", 95, 95, "G"), ("up", 95, 94, "AG"), ("up", 95, 93.99, "AR"), ("up", 95, 92, "AR"),
    ("up", 95, 91.99, "R"), ("down", 100, 101, "AG"), ("down", 100, 103, "AR"),
    ("down", 100, 103.01, "R"), ("down", 100, 99, "G")])
def test_data_rag_at_the_tolerance_boundaries(direction, planned, actual, rag):
    m = Measure(id="X", priority_id="P", name="x", unit="count", direction=direction,
                target=1, target_period="2004-01", tolerance_ag=1, tolerance_ar=3)
    assert data_rag(m, planned, actual) == rag


AE = REALDATA / "nhs_ae_counts_by_trust_monthly.csv"


@needs_shared(AE)
def test_league_table_and_funnel_limits_on_real_ae_data():
    att, br = {}, {}
    with AE.open() as fh:
        for r in csv.DictReader(fh):
            if r["period"] == "2019-03" and r["org"] != "ENGLAND":
                (att if r["series_id"] == "ae_attendances" else br)[r["org"]] = int(r["value"])
    rows = [{"org": o, "value": 100 * (att[o] - br[o]) / att[o], "numerator": att[o] - br[o],
             "denominator": att[o]} for o in att if att[o] > 0]
    table = league(rows, direction="up")
    values = [r.value for r in table]
    assert values == sorted(values, reverse=True)
    # independent calculation of the pooled rate and one trust's 99.8% limits
    p = sum(r["numerator"] for r in rows) / sum(r["denominator"] for r in rows)
    big = max(rows, key=lambda r: r["denominator"])
    row = next(r for r in table if r.org == big["org"])
    se = math.sqrt(p * (1 - p) / big["denominator"])
    assert row.lower998 == pytest.approx(100 * (p - 3.090232 * se))
    assert row.upper95 == pytest.approx(100 * (p + 1.959964 * se))
    worse = [r for r in table if r.value < r.lower998]
    assert all(r.rag == "R" for r in worse) and worse
    assert {r.short_flag for r in worse} == {"worse (99.8% limit)"}
    assert {r.short_flag for r in table} <= {"worse (99.8% limit)", "worse (95% limit)",
                                             "within limits", "better (95% limit)",
                                             "better (99.8% limit)"}
    assert {r.quartile for r in table} == {1, 2, 3, 4}


def test_next_milestone_is_the_earliest_not_complete():
    from deliverypack.consolidation.views import next_milestone
    from deliverypack.sample.programme import sample_register
    reg = sample_register()
    updates = {"DH1-M2": {"status": "Complete", "forecast": "2002-12-20"},
               "DH1-M1": {"status": "Delayed", "forecast": "2003-06-30"},
               "DH1-M3": {"status": "On track", "forecast": "2003-09-30"}}
    assert next_milestone(reg, updates, "DH1") == (
        "'See and treat' adopted in every major A&E department: 30 Jun 2003, Delayed "
        "(forecast after due)")
    assert next_milestone(reg, {}, "DfES1").startswith("Expert head teachers deployed")
    assert next_milestone(reg, {k: {"status": "Complete", "forecast": None}
                                for k in ("HO1-M1", "HO1-M2", "HO1-M3")}, "HO1") == ""
