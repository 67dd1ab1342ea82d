"""A real programme from an empty workspace: a register written from the public series in
../shared/data/realdata/ (NHS England A&E by trust, England referral to treatment, knife
crime by police force, claimant count by Greater Manchester borough), three rounds of
returns filled with the real figures through the issued templates, ingested, and the
unit's assessment. Used by the tests and to render the evidence pages.

    python tests/realprogramme.py DIR   # builds DIR and writes its master and deck
"""

from __future__ import annotations

import csv
import datetime as dt
import sys
from pathlib import Path

from places import REALDATA, ROOT  # noqa: F401

ROUNDS = [("2016-12", "December 2016", dt.date(2017, 1, 20)),
          ("2017-06", "June 2017", dt.date(2017, 7, 20)),
          ("2017-09", "September 2017", dt.date(2017, 10, 20))]
LAST = ROUNDS[-1][0]


def _period(text: str) -> str:
    """'2016-Q2' -> '2016-06' (a quarter is reported at its last month)."""
    if "-Q" in text:
        y, q = text.split("-Q")
        return f"{y}-{3 * int(q):02d}"
    return text


def _series(file: str, series_id: str) -> dict[str, dict[str, float]]:
    """org -> period -> value for one series of a real-data file."""
    out: dict[str, dict[str, float]] = {}
    with (REALDATA / file).open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if row["series_id"] == series_id and row["value"] not in ("", None):
                out.setdefault(row["org"], {})[_period(row["period"])] = float(row["value"])
    return out


def _line(start: str, start_value: float, points: list[tuple[str, float]], step: int = 1
          ) -> dict[str, float]:
    """A planned trajectory: straight lines from the baseline through each (period, value)."""
    from deliverypack.foundation.periods import add_months, months_between

    out, p, v = {start: start_value}, start, start_value
    for end, target in points:
        n = months_between(p, end)
        for k in range(step, n + 1, step):
            out[add_months(p, k)] = round(v + (target - v) * k / n, 3)
        p, v = end, target
    return out


def real_register():
    from deliverypack.foundation.domain import (
        Department,
        Measure,
        Milestone,
        Organisation,
        Priority,
        Register,
        Round,
        TrajectoryPoint,
    )

    ae_pct = _series("nhs_ae_4hr_pct_by_trust_monthly.csv", "ae_4hr_pct")["ENGLAND"]
    att = _series("nhs_ae_counts_by_trust_monthly.csv", "ae_attendances")
    rtt = _series("england_rtt_national_monthly.csv", "rtt_incomplete_18wk_pct")["ENGLAND"]
    knife = _series("ew_knife_crime_by_police_force_quarterly.csv", "knife_offences_total")
    claims = _series("gm_claimant_count_by_local_authority_monthly.csv", "claimant_count")
    months = [f"2016-{m:02d}" for m in range(4, 13)] + [f"2017-{m:02d}" for m in range(1, 10)]
    complete = [o for o in att if o != "ENGLAND" and all(att[o].get(m) for m in months)]
    trusts = sorted(complete, key=lambda o: -att[o]["2016-04"])[:12]
    forces = sorted((o for o in knife if o != "ALL FORCES"),
                    key=lambda o: -knife[o].get("2016-03", 0))[:12]
    boroughs = sorted(o for o in claims if o.startswith("E08"))
    measures = [
        Measure(id="AE", priority_id="DH1", name="Patients seen within 4 hours in A&E",
                unit="percent", direction="up", target=95, target_period="2018-03",
                baseline=ae_pct["2016-04"], baseline_period="2016-04", tolerance_ag=1,
                tolerance_ar=3, breakdown="trust", numerator_label="Seen within 4 hours",
                denominator_label="Attendances", source="NHS England via NHSRdatasets"),
        Measure(id="RTT", priority_id="DH2", name="Waiting under 18 weeks for treatment",
                unit="percent", direction="up", target=92, target_period="2018-03",
                tolerance_ag=0.5, tolerance_ar=1.5, source="NHS England RTT statistics"),
        Measure(id="KNIFE", priority_id="HO1", name="Knife crime offences in the quarter",
                unit="count", direction="down", frequency="quarterly", target=7500,
                target_period="2018-03", tolerance_ag=300, tolerance_ar=900,
                breakdown="force", source="Home Office knife crime statistics"),
        Measure(id="CLAIM", priority_id="DWP1",
                name="Claimants in Greater Manchester", unit="count", direction="down",
                target=47000, target_period="2017-12", tolerance_ag=800, tolerance_ar=2500,
                breakdown="borough", source="Trafford Data Lab claimant count"),
    ]
    planned = {
        "AE": _line("2016-04", 91.0, [("2017-09", 90.0), ("2018-03", 95.0)]),
        "RTT": _line("2016-04", 92.0, [("2018-03", 92.0)]),
        "KNIFE": _line("2016-03", 8300, [("2018-03", 7500)], step=3),
        "CLAIM": _line("2016-04", 52000, [("2017-12", 47000)]),
    }
    orgs = [Organisation(id=t, name=f"NHS trust {t}", kind="trust", department_id="DH")
            for t in trusts]
    orgs += [Organisation(id=f"F{k:02d}", name=f, kind="force", department_id="HO")
             for k, f in enumerate(forces, 1)]
    orgs += [Organisation(id=b.split()[0], name=b.split(" ", 1)[1], kind="borough",
                          department_id="DWP") for b in boroughs]
    return Register(
        programme="Real-data programme",
        departments=[Department(id="DH", name="Department of Health"),
                     Department(id="HO", name="Home Office"),
                     Department(id="DWP", name="Department for Work and Pensions")],
        priorities=[
            Priority(id="DH1", department_id="DH", title="Recover the A&E four-hour standard",
                     short_title="A&E four hours", lead="National Director, Urgent Care",
                     target_statement="95% of patients seen within four hours by March "
                                      "2018, through 90% by September 2017."),
            Priority(id="DH2", department_id="DH", title="Referral to treatment in 18 weeks",
                     short_title="Waiting times", lead="National Director, Elective Care",
                     target_statement="92% of patients waiting under 18 weeks."),
            Priority(id="HO1", department_id="HO", title="Reduce knife crime",
                     short_title="Knife crime", lead="Director, Crime",
                     target_statement="Knife crime offences down to 7,500 a quarter by "
                                      "March 2018."),
            Priority(id="DWP1", department_id="DWP",
                     title="Help claimants in Greater Manchester into work",
                     short_title="Greater Manchester claimants", lead="Director, Work",
                     target_statement="Fewer than 47,000 claimants by December 2017."),
        ],
        measures=measures,
        trajectories=[TrajectoryPoint(measure_id=m, period=p, planned=v)
                      for m, pts in planned.items() for p, v in sorted(pts.items())],
        milestones=[Milestone(id="DH1-M1", priority_id="DH1",
                              title="Winter plan agreed with every trust",
                              due=dt.date(2017, 9, 30)),
                    Milestone(id="HO1-M1", priority_id="HO1",
                              title="Serious violence strategy published",
                              due=dt.date(2018, 4, 30))],
        organisations=orgs,
        rounds=[Round(id=r, label=label, due=due) for r, label, due in ROUNDS],
    ), {"ae_pct": ae_pct, "att": att, "rtt": rtt, "knife": knife, "claims": claims,
        "forces": forces, "boroughs": boroughs}


def build_real_programme(root: Path):
    """An empty workspace, the real register, three rounds of real returns, ingested."""
    from deliverypack.ledger.workspace import Workspace, init_workspace
    from deliverypack.returns.ingest import ingest_file
    from deliverypack.sample.filler import fill_workbook, unit_ratings_for
    from deliverypack.templates.issue import issue_assessment, issue_returns
    from deliverypack.validation.register import write_register

    workspace = init_workspace(root)
    reg, data = real_register()
    write_register(workspace.register_path, reg, [])
    workspace = Workspace.open(root)
    breaches = _series("nhs_ae_counts_by_trust_monthly.csv", "ae_4hr_breaches")
    forces = {f"F{k:02d}": f for k, f in enumerate(data["forces"], 1)}
    boroughs = {b.split()[0]: b for b in data["boroughs"]}
    national = {"AE": data["ae_pct"], "RTT": data["rtt"], "KNIFE": data["knife"]["ALL FORCES"],
                "CLAIM": data["claims"]["E47000001 Greater Manchester"]}
    for round_id, _, due in ROUNDS:
        for template in issue_returns(workspace, round_id):
            spec = workspace.ledger.template(_template_id(template))
            overrides: dict = {}
            for _, block in spec.blocks():
                mid = block.meta.get("measure")
                if block.kind == "traj":
                    for i, row in enumerate(block.rows):
                        if "actual" in row.inputs:
                            overrides[(block.name, i, "actual")] = \
                                national[mid].get(row["period"])
                        if "forecast" in row.inputs:
                            overrides[(block.name, i, "forecast")] = None
                elif block.kind == "orgs":
                    for i, row in enumerate(block.rows):
                        org, p = row["org"], row["period"]
                        if mid == "AE":
                            a = data["att"].get(org, {}).get(p)
                            b = breaches.get(org, {}).get(p)
                            overrides[(block.name, i, "numerator")] = None if a is None \
                                else a - (b or 0)
                            overrides[(block.name, i, "denominator")] = a
                        elif mid == "KNIFE":
                            overrides[(block.name, i, "value")] = \
                                data["knife"].get(forces[org], {}).get(p)
                        elif mid == "CLAIM":
                            overrides[(block.name, i, "value")] = \
                                data["claims"].get(boroughs[org], {}).get(p)
            filled = root / "inbox" / round_id / template.name
            filled.parent.mkdir(parents=True, exist_ok=True)
            fill_workbook(template, spec, reg, filled, overrides=overrides)
            ingest_file(workspace, filled, received=dt.datetime.combine(due, dt.time(10)))
        assessment = issue_assessment(workspace, round_id)
        spec = workspace.ledger.template(_template_id(assessment))
        selfr = {k: r["value"] for k, r in workspace.ledger.ratings(round_id, "self").items()}
        filled = root / "inbox" / round_id / assessment.name
        fill_workbook(assessment, spec, reg, filled,
                      unit_ratings=unit_ratings_for(reg, round_id, selfr))
        ingest_file(workspace, filled, received=dt.datetime.combine(due, dt.time(12)))
    return workspace


def _template_id(path: Path) -> str:
    from deliverypack.validation.checks import template_id_of
    from deliverypack.validation.read import BookValues

    return template_id_of(BookValues.from_path(path)) or ""


if __name__ == "__main__":
    import shutil

    from deliverypack.outputs.deck import build_deck
    from deliverypack.outputs.master import build_master

    target = Path(sys.argv[1])
    if target.exists():
        shutil.rmtree(target)
    workspace = build_real_programme(target)
    print(build_master(workspace, LAST))
    print(build_deck(workspace, LAST))
