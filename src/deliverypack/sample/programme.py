"""The sample programme, drawn from the seed slides (PMDU 2001-2010, Implementation Unit 2012-).

The Home Office asylum priorities and the unit's judgements on them are those of the seed's
six-monthly delivery report table (Dec 2002, Jul 2003, Dec 2003). Cells that the seed's
scan does not show legibly are marked RECONSTRUCTED below and filled with a plausible
rating. Figures for trajectories are illustrative unless a source is named.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from ..foundation.domain import (
    Department,
    Measure,
    Member,
    Milestone,
    Organisation,
    Priority,
    Register,
    Round,
    TaskForce,
    TrajectoryPoint,
)
from ..foundation.periods import months_between, period_range
from ..ledger.workspace import Workspace, init_workspace

D = dt.date

DEPARTMENTS = [
    Department(id="HO", name="Home Office", contact="asylum.returns@homeoffice.example"),
    Department(id="DH", name="Department of Health", contact="ae.returns@dh.example"),
    Department(id="DfES", name="Department for Education and Skills",
               contact="london.challenge@dfes.example"),
    Department(id="DWP", name="Department for Work and Pensions", contact="returns@dwp.example"),
    # The id is kept (files and tests name it); in 2003 apprenticeships were funded and
    # counted by the Learning and Skills Council, which sends this return.
    Department(id="BIS", name="Learning and Skills Council",
               contact="apprenticeships@lsc.example"),
]

PRIORITIES = [
    Priority(id="HO1", department_id="HO", title="Ensure effective asylum process",
             short_title="Effective asylum process", lead="Director General, IND",
             target_statement="An asylum system that is fast, fair and firm."),
    Priority(id="HO2", department_id="HO",
             title="Reducing significantly unfounded asylum claims",
             short_title="Unfounded claims", lead="Director, Asylum Policy",
             target_statement="Halve monthly asylum applications from the October 2002 peak "
                              "by September 2003."),
    Priority(id="HO3", department_id="HO", title="Fast turnaround of manifestly unfounded cases",
             short_title="Fast turnaround (NSA)", lead="Director, Asylum Casework",
             target_statement="80% of non-suspensive appeal cases decided within 10 days."),
    Priority(id="HO4", department_id="HO",
             title="By 2004 75% of substantive asylum applications are decided within 2 months",
             short_title="Decided within 2 months", lead="Director, Asylum Casework",
             target_statement="75% of substantive applications decided within 2 months by "
                              "March 2004."),
    Priority(id="HO5", department_id="HO",
             title="By 2004 a proportion (tba) of substantive asylum applications, including "
                   "final appeal, are decided within 6 months",
             short_title="Decided incl. appeal in 6 months", lead="Director, Appeals",
             target_statement="60% of substantive applications, including final appeal, "
                              "concluded within 6 months by March 2004."),
    Priority(id="HO6", department_id="HO", title="Taking high quality decisions",
             short_title="High quality decisions", lead="Director, Quality",
             target_statement="85% of initial decisions upheld on appeal."),
    Priority(id="HO7", department_id="HO",
             title="Remove a greater proportion of failed asylum seekers",
             short_title="Removals", lead="Director, Removals",
             target_statement="1,500 removals of failed asylum seekers a month by March 2004."),
    Priority(id="DH1", department_id="DH",
             title="Reduce waiting in A&E: 98% of patients treated, admitted or discharged "
                   "within 4 hours",
             short_title="A&E 4 hours", lead="National Director for Emergency Access",
             target_statement="98% of patients spend four hours or less in A&E by December "
                              "2004."),
    Priority(id="DfES1", department_id="DfES",
             title="Improve the performance of London schools",
             short_title="London schools", lead="Commissioner for London Schools",
             target_statement="More than halve the 17.5 point attainment gap of the 60 "
                              "target schools within 3 years."),
    Priority(id="DWP1", department_id="DWP",
             title="Increase the employment rate, including in the most disadvantaged areas",
             short_title="Employment rate", lead="Director General, Jobcentre Plus",
             target_statement="400,000 more people in work by March 2004, on the way to the "
                              "SR2002 target of a higher employment rate by spring 2006."),
    Priority(id="BIS1", department_id="BIS",
             title="Increase the number of young people starting Modern Apprenticeships",
             short_title="Apprenticeships", lead="Director of Learning, LSC",
             target_statement="Starts rising to 150,000 a quarter by June 2004, towards 28% of "
                              "young people starting a Modern Apprenticeship by age 22."),
]


def _line(start: str, end: str, a: float, b: float, step: int = 1,
          hold_until: str | None = None) -> dict[str, float]:
    """A straight-line trajectory from a at start to b at end, then held to hold_until."""
    out = {}
    n = max(months_between(start, end), 1)
    for p in period_range(start, hold_until or end, step):
        k = min(months_between(start, p), n)
        out[p] = round(a + (b - a) * k / n, 1)
    return out


MEASURES: list[tuple[Measure, dict[str, float]]] = [
    (Measure(id="ASY2", priority_id="HO2",
             name="Monthly asylum applications (principal applicants)", unit="count",
             direction="down", baseline=8800, baseline_period="2002-10", target=4400,
             target_period="2003-09", tolerance_ag=300, tolerance_ar=800, plausible_min=1000,
             plausible_max=15000,
             source="Home Office asylum statistics (illustrative monthly figures)"),
     {**_line("2002-07", "2002-10", 7600, 8800), **_line("2002-10", "2003-09", 8800, 4400,
                                                         hold_until="2004-03")}),
    (Measure(id="ASY3", priority_id="HO3", name="NSA cases decided within 10 days",
             unit="percent", direction="up", baseline=52, baseline_period="2002-07", target=80,
             target_period="2004-03", tolerance_ag=2, tolerance_ar=5, plausible_min=10,
             plausible_max=100, source="IND management information"),
     _line("2002-07", "2004-03", 52, 80)),
    (Measure(id="ASY4", priority_id="HO4",
             name="Substantive applications decided within 2 months", unit="percent",
             direction="up", baseline=60, baseline_period="2002-07", target=75,
             target_period="2004-03", tolerance_ag=1.5, tolerance_ar=4, plausible_min=20,
             plausible_max=100, source="IND management information"),
     _line("2002-07", "2004-03", 60, 75)),
    (Measure(id="ASY5", priority_id="HO5",
             name="Applications concluded within 6 months incl. appeal", unit="percent",
             direction="up", baseline=38, baseline_period="2002-07", target=60,
             target_period="2004-03", tolerance_ag=2, tolerance_ar=5, plausible_min=10,
             plausible_max=100, source="IND and appellate authority data"),
     _line("2002-07", "2004-03", 38, 60)),
    (Measure(id="ASY6", priority_id="HO6", name="Initial decisions upheld on appeal",
             unit="percent", direction="up", baseline=78, baseline_period="2002-07", target=85,
             target_period="2004-03", tolerance_ag=1, tolerance_ar=3, plausible_min=40,
             plausible_max=100, source="Appellate authority outcomes"),
     _line("2002-07", "2004-03", 78, 85)),
    (Measure(id="ASY7", priority_id="HO7", name="Removals of failed asylum seekers",
             unit="count", direction="up", baseline=1000, baseline_period="2002-07",
             target=1500, target_period="2004-03", tolerance_ag=50, tolerance_ar=150,
             plausible_min=200, plausible_max=4000, source="IND removals statistics"),
     _line("2002-07", "2004-03", 1000, 1500)),
    (Measure(id="AE4", priority_id="DH1",
             name="Patients spending 4 hours or less in A&E", unit="percent", direction="up",
             baseline=80, baseline_period="2002-07", target=98, target_period="2004-12",
             tolerance_ag=1, tolerance_ar=3, plausible_min=50, plausible_max=100,
             breakdown="trust", numerator_label="Seen within 4 hours",
             denominator_label="Attendances", source="DH weekly A&E sitreps (QMAE)"),
     {**_line("2002-07", "2003-03", 80, 90), **_line("2003-03", "2003-12", 90, 95),
      **_line("2003-12", "2004-12", 95, 98)}),
    (Measure(id="LS1", priority_id="DfES1",
             name="Attainment gap of the 60 target schools", unit="points",
             direction="down", frequency="quarterly", baseline=17.5,
             baseline_period="2002-09", target=8, target_period="2005-06", tolerance_ag=0.5,
             tolerance_ar=1.5, plausible_min=-10, plausible_max=40, breakdown="school",
             source="DfES London Challenge tracking (5+ A*-C GCSE, predicted)"),
     _line("2002-09", "2005-06", 17.5, 8, step=3)),
    (Measure(id="JOB1", priority_id="DWP1", name="Net new jobs since July 2002",
             unit="count", direction="up", baseline=0, baseline_period="2002-07",
             target=400000, target_period="2004-03", tolerance_ag=10000, tolerance_ar=30000,
             plausible_min=-200000, plausible_max=1500000, source="ONS Labour Force Survey"),
     _line("2002-07", "2004-03", 0, 400000)),
    (Measure(id="APP1", priority_id="BIS1", name="Apprenticeship starts in the quarter",
             unit="count", direction="up", frequency="quarterly", baseline=110000,
             baseline_period="2002-09", target=150000, target_period="2004-06",
             tolerance_ag=3000, tolerance_ar=8000, plausible_min=20000, plausible_max=400000,
             source="Individualised Learner Record"),
     _line("2002-09", "2004-06", 110000, 150000, step=3)),
]

MILESTONES = [
    Milestone(id="HO1-M1", priority_id="HO1", title="New asylum model designed and agreed",
              due=D(2003, 3, 31)),
    Milestone(id="HO1-M2", priority_id="HO1", title="Programme boards in place for every "
              "strand of the asylum process", due=D(2003, 6, 30)),
    Milestone(id="HO1-M3", priority_id="HO1", title="New asylum model piloted end to end in "
              "one region", due=D(2004, 3, 31)),
    Milestone(id="HO2-M1", priority_id="HO2", title="Non-suspensive appeals list extended to "
              "ten further countries", due=D(2003, 4, 30)),
    Milestone(id="HO3-M1", priority_id="HO3", title="Fast-track centre at Harmondsworth open",
              due=D(2003, 4, 1)),
    Milestone(id="HO4-M1", priority_id="HO4", title="Caseworker recruitment complete (200 posts)",
              due=D(2003, 9, 30)),
    Milestone(id="HO5-M1", priority_id="HO5", title="Single tier of appeal legislated",
              due=D(2004, 3, 31)),
    Milestone(id="HO6-M1", priority_id="HO6", title="Quality audit of initial decisions in "
              "place", due=D(2003, 7, 31)),
    Milestone(id="HO7-M1", priority_id="HO7", title="Additional removal centre capacity "
              "(400 places)", due=D(2003, 10, 31)),
    Milestone(id="DH1-M1", priority_id="DH1", title="'See and treat' adopted in every major "
              "A&E department", due=D(2003, 3, 31)),
    Milestone(id="DH1-M2", priority_id="DH1", title="Weekly monitoring of every trust in place",
              due=D(2002, 12, 31)),
    Milestone(id="DH1-M3", priority_id="DH1", title="Expert support teams in the 20 most "
              "challenged trusts", due=D(2003, 9, 30)),
    Milestone(id="DfES1-M1", priority_id="DfES1", title="Expert head teachers deployed to all "
                                                          "60 schools", due=D(2003, 1, 31)),
    Milestone(id="DfES1-M2", priority_id="DfES1", title="Tailored support package agreed for "
                                                          "each school", due=D(2003, 4, 30)),
    Milestone(id="DWP1-M1", priority_id="DWP1", title="Second wave of Jobcentre Plus offices "
              "open", due=D(2003, 2, 28)),
    Milestone(id="BIS1-M1", priority_id="BIS1", title="Entry to Employment open in every local "
              "LSC area", due=D(2003, 8, 31)),
]

# Real NHS trust codes (ODS) and names, as organisations for the A&E league table.
TRUSTS = [
    ("R1H", "Barts Health NHS Trust"), ("RF4", "Barking, Havering and Redbridge University "
                                               "Hospitals NHS Trust"),
    ("RJ1", "Guy's and St Thomas' NHS Foundation Trust"),
    ("RYJ", "Imperial College Healthcare NHS Trust"),
    ("RQM", "Chelsea and Westminster Hospital NHS Foundation Trust"),
    ("RAL", "Royal Free London NHS Foundation Trust"),
    ("RJZ", "King's College Hospital NHS Foundation Trust"),
    ("RRV", "University College London Hospitals NHS Foundation Trust"),
    ("RKE", "Whittington Health NHS Trust"), ("RAP", "North Middlesex University Hospital "
                                                     "NHS Trust"),
    ("RJ7", "St George's University Hospitals NHS Foundation Trust"),
    ("RJ6", "Croydon Health Services NHS Trust"),
]
# Fictional schools standing for the 60 London Challenge schools.
SCHOOLS = [
    ("LS-101", "Northgate Community School"), ("LS-102", "Riverside Academy"),
    ("LS-103", "St Anne's High School"), ("LS-104", "Eastfield Secondary School"),
    ("LS-105", "Marsh Lane School"), ("LS-106", "Kingsway College"),
    ("LS-107", "Parkview School"), ("LS-108", "Hillcrest Girls' School"),
]

ORGANISATIONS = [Organisation(id=c, name=n, kind="trust", department_id="DH")
                 for c, n in TRUSTS] + \
                [Organisation(id=c, name=n, kind="school", department_id="DfES")
                 for c, n in SCHOOLS]

# The unit's name and the protective marking of the period (the Government Protective
# Marking Scheme: RESTRICTED, with a descriptor); written into the sample workspace's
# settings, from which every paper takes them.
UNIT_NAME = "Prime Minister's Delivery Unit"
MARKING = "RESTRICTED – POLICY"

# A task force of the period. Ministers are those in post in autumn 2003; officials other
# than the head of the unit are invented for the sample.
TASKFORCES = [
    TaskForce(id="EOL", name="Employment Opportunity and Learning Task Force",
              chair="The Rt Hon Andrew Smith MP, Secretary of State for Work and Pensions",
              terms_of_reference="Raise the employment rate, above all in the most "
                                 "disadvantaged areas and groups; increase the number of "
                                 "young people starting Modern Apprenticeships; make sure "
                                 "that every young person is in work, education or training.",
              cycle_weeks=6, priorities=["DWP1", "BIS1"]),
]

MEMBERS = [
    Member(taskforce_id="EOL", name="The Rt Hon Andrew Smith MP",
           role="Secretary of State for Work and Pensions (Chair)", organisation="DWP",
           kind="minister"),
    Member(taskforce_id="EOL", name="The Rt Hon Charles Clarke MP",
           role="Secretary of State for Education and Skills", organisation="DfES",
           kind="minister"),
    Member(taskforce_id="EOL", name="The Rt Hon Patricia Hewitt MP",
           role="Secretary of State for Trade and Industry", organisation="DTI",
           kind="minister"),
    Member(taskforce_id="EOL", name="The Rt Hon Paul Boateng MP",
           role="Chief Secretary to the Treasury", organisation="HM Treasury", kind="minister"),
    Member(taskforce_id="EOL", name="The Rt Hon Douglas Alexander MP",
           role="Minister for the Cabinet Office", organisation="Cabinet Office",
           kind="minister"),
    Member(taskforce_id="EOL", name="Des Browne MP", role="Minister of State for Work",
           organisation="DWP", kind="minister"),
    Member(taskforce_id="EOL", name="Alan Johnson MP",
           role="Minister of State for Lifelong Learning, Further and Higher Education",
           organisation="DfES", kind="minister"),
    Member(taskforce_id="EOL", name="Michael Barber",
           role="Chief Adviser to the Prime Minister on Delivery", organisation="PMDU",
           kind="official"),
    Member(taskforce_id="EOL", name="Clare Whitmore",
           role="Delivery Unit lead for employment and skills", organisation="PMDU",
           kind="official"),
    Member(taskforce_id="EOL", name="Jonathan Hale", role="Director General, Jobcentre Plus",
           organisation="DWP", kind="official"),
    Member(taskforce_id="EOL", name="Ruth Adebayo", role="Director of Learning, LSC",
           organisation="LSC", kind="official"),
    Member(taskforce_id="EOL", name="Helen Marsh",
           role="Secretary to the task force, Economic and Domestic Secretariat",
           organisation="Cabinet Office", kind="secretariat"),
]

ROUNDS = [
    Round(id="2002-12", label="December 2002", due=D(2003, 1, 17)),
    Round(id="2003-07", label="July 2003", due=D(2003, 8, 15)),
    Round(id="2003-12", label="December 2003", due=D(2004, 1, 16)),
]

ACTIONS = [
    {"id": "ST-0212-01", "description": "Set out a recovery plan for the five trusts furthest "
     "off the A&E trajectory", "owner": "National Director for Emergency Access",
     "department": "DH", "priority_id": "DH1", "due": D(2003, 3, 31), "status": "open",
     "origin": "Stocktake 2002-12"},
    {"id": "ST-0212-02", "description": "Report on the effect of extending the non-suspensive "
     "appeals list on intake", "owner": "Director, Asylum Policy", "department": "HO",
     "priority_id": "HO2", "due": D(2003, 4, 30), "status": "open",
     "origin": "Stocktake 2002-12"},
    {"id": "ST-0212-03", "description": "Agree with HM Treasury the funding for 400 removal "
     "centre places", "owner": "Director, Removals", "department": "HO", "priority_id": "HO7",
     "due": D(2003, 6, 30), "status": "open", "origin": "Stocktake 2002-12"},
    {"id": "ST-0212-04", "description": "Share the London Challenge support model with the "
     "unit for a priority review", "owner": "Commissioner for London Schools",
     "department": "DfES", "priority_id": "DfES1", "due": D(2003, 2, 28), "status": "open",
     "origin": "Stocktake 2002-12"},
]

# The unit's judgements for the Home Office, from the seed's delivery report table.
# Order: challenge, quality, capacity, stage, likelihood.
SEED_TABLE: dict[str, dict[str, tuple[str, str, str, str, str]]] = {
    "2002-12": {
        "HO1": ("H", "AR", "R", "2", "R"),
        "HO2": ("H", "R", "AR", "2", "R"),  # quality, capacity RECONSTRUCTED
        "HO3": ("H", "R", "AR", "1", "R"),  # quality, likelihood RECONSTRUCTED
        "HO4": ("L", "G", "G", "3", "G"),
        "HO5": ("H", "R", "R", "2", "R"),
        "HO6": ("M", "R", "R", "1", "R"),  # quality RECONSTRUCTED
        "HO7": ("H", "R", "R", "2", "R"),
    },
    "2003-07": {
        "HO1": ("H", "AG", "AG", "2", "AG"),
        "HO2": ("H", "G", "G", "3", "AG"),
        "HO3": ("H", "AG", "AR", "2", "AR"),  # capacity, likelihood RECONSTRUCTED
        "HO4": ("L", "G", "G", "3", "G"),  # challenge RECONSTRUCTED
        "HO5": ("M", "AR", "AR", "2", "AR"),  # challenge, quality, capacity, likelihood RECON.
        "HO6": ("L", "G", "G", "3", "G"),
        "HO7": ("M", "AR", "AR", "2", "AR"),  # quality, capacity, likelihood RECONSTRUCTED
    },
    "2003-12": {
        "HO1": ("H", "AG", "AG", "3", "G"),
        "HO2": ("H", "AG", "G", "3", "G"),
        "HO3": ("H", "AR", "AG", "2", "AG"),  # likelihood RECONSTRUCTED
        "HO4": ("L", "G", "G", "4", "G"),
        "HO5": ("M", "G", "G", "2", "AG"),
        "HO6": ("L", "G", "G", "3", "G"),
        "HO7": ("M", "G", "AG", "3", "G"),
    },
}

SEED_NARRATIVE = (
    "This is an increasingly well managed and sustainable organisation. Our assessment shows "
    "that their capacity and performance has been transformed over the last 12 months. "
    "Leadership has rightly focused effort on increasing the capacity of the organisation to "
    "deliver. There is impressive progress on the challenges identified in the last delivery "
    "report.")

# The seed's numbered challenges for the Home Office, each tied to the priority whose
# rating it carries in the report (the unit's choice, made for the sample).
SEED_CHALLENGE_PRIORITY = ["HO2", "HO1", "HO5", "HO3", "HO4", "HO3", "HO7"]

SEED_CHALLENGES = [
    ("Maintain ambition and challenge",
     "JPB is leading by example and used evaluation of key projects to provide challenge to "
     "priorities, structures and processes. It is critical these challenges are carried "
     "through into the new strategy. They have provided the clear signal that further "
     "progress on intake is required."),
    ("Accelerate effective performance management",
     "The programme boards have matured to provide increasingly effective challenge to "
     "performance, drive new actions and identify key strategic issues for resolution. The "
     "most important cross-cutting issue is a 'country focus' to challenge strategy, actions "
     "and impact across all programme boards."),
    ("Establish effective corporate management to join up the organisation",
     "JPB collaboration, focus and performance continues to improve. An outstanding challenge "
     "is to find the right way to lead cross cutting issues and projects."),
    ("Engage and energise staff",
     "Some progress has been made at more senior levels but there remains a major challenge "
     "to align staff more widely with clarified priorities."),
    ("Strengthen and develop middle management",
     "Substantial progress has been made, targeted on critical business areas with some "
     "excellent new managers in place."),
    ("Re-build the big picture to shape the next delivery plan",
     "Well underway as part of the strategic planning cycle. High quality evaluation of NSA "
     "and fast track has provided a crucial platform for the new delivery plan."),
    ("Managing the impact of SR2002 settlement",
     "The JPB has taken a grown up approach to this challenging area."),
]


def sample_register() -> Register:
    """A fresh copy of the sample programme: callers may change it freely."""
    trajectories = [TrajectoryPoint(measure_id=m.id, period=p, planned=v)
                    for m, traj in MEASURES for p, v in sorted(traj.items())]
    return Register(
        programme="Public service delivery priorities 2002–2004 (sample)",
        departments=DEPARTMENTS, priorities=PRIORITIES, measures=[m for m, _ in MEASURES],
        trajectories=trajectories, milestones=MILESTONES, organisations=ORGANISATIONS,
        taskforces=TASKFORCES, members=MEMBERS, rounds=ROUNDS).model_copy(deep=True)


# The demo's own priority, with a measure each school returns itself (an organisation
# return), pooled to the national figure: the schools' side of the London Challenge.
DEMO_PRIORITY = Priority(
    id="DfES2", department_id="DfES",
    title="Raise GCSE results in the London Challenge schools",
    short_title="London GCSE results", lead="Commissioner for London Schools",
    target_statement="Pupils predicted five or more A*-C GCSEs in the target schools to rise "
                     "from 28% to 40% by summer 2005.")
DEMO_MEASURE = Measure(
    id="LS2", priority_id="DfES2",
    name="Pupils predicted 5+ A*-C GCSEs in the target schools", unit="percent",
    direction="up", frequency="quarterly", baseline=28, baseline_period="2002-09",
    target=40, target_period="2005-06", tolerance_ag=1, tolerance_ar=3, plausible_min=5,
    plausible_max=100, breakdown="school", returned_by="organisation",
    numerator_label="Pupils predicted 5+ A*-C", denominator_label="Pupils in Year 11",
    source="Each school's return to the London Challenge (predicted grades)")


def demo_register() -> Register:
    """The demo's programme: the sample's, with one more priority whose measure every school
    returns itself, so the demo issues, fills and ingests organisation returns and its
    papers set each school's figure. The tests' sample programme stays as it is."""
    reg = sample_register()
    reg.priorities.append(DEMO_PRIORITY.model_copy())
    reg.measures.append(DEMO_MEASURE.model_copy())
    reg.trajectories += [TrajectoryPoint(measure_id="LS2", period=p, planned=v) for p, v in
                         sorted(_line("2002-09", "2005-06", 28, 40, step=3).items())]
    return reg


def sample_workspace(root: Path, *, demo: bool = False) -> Workspace:
    """A new workspace holding the sample programme: the tests' and `init --sample`'s
    starting point; with `demo`, the demo's programme (sample_returns/ are its returns)."""
    return init_workspace(root, register=demo_register() if demo else sample_register(),
                          actions=ACTIONS, unit=UNIT_NAME, marking=MARKING)
