"""A seeded synthetic filler that fills returns the way a department would.

Actuals are noisy around the trajectory with each measure's own story of slippage and
recovery; ratings follow the data; milestones slip now and then; a few issues, risks and
asks are written. It writes only the input cells of a template, through the same spec the
reader uses, so sample returns are honest round trips. Used for sample_returns/, tests and
the benchmark.
"""

from __future__ import annotations

import datetime as dt
import random
import zlib
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

from ..consolidation.rag import data_rag
from ..foundation.domain import Register
from ..foundation.files import atomic_write, write_text_cell
from ..foundation.periods import months_between, period_end
from ..templates.build import excel_value
from ..validation.layout import BlockSpec, SpecRow, WorkbookSpec, cell_is_input, cell_type
from ..validation.read import parse_ref
from .programme import SEED_CHALLENGE_PRIORITY, SEED_CHALLENGES, SEED_NARRATIVE, SEED_TABLE

# Each measure's story: bias against trajectory, in units of its AR tolerance, by period.
STORIES: dict[str, list[tuple[str, float]]] = {
    "ASY2": [("2002-07", 0.2), ("2003-01", 0.0), ("2003-06", -1.0), ("2004-03", -1.2)],
    "ASY3": [("2002-07", -1.5), ("2003-06", -0.5), ("2003-12", -0.2)],
    "ASY4": [("2002-07", 0.1), ("2003-12", 0.2)],
    "ASY5": [("2002-07", -1.6), ("2003-07", -0.8), ("2003-12", 0.1)],
    "ASY6": [("2002-07", -1.4), ("2003-07", 0.0), ("2003-12", 0.2)],
    "ASY7": [("2002-07", -2.0), ("2003-07", -1.0), ("2003-12", 0.0)],
    "AE4": [("2002-07", -1.2), ("2003-03", -0.9), ("2003-10", -0.25), ("2003-12", -0.3)],
    "LS1": [("2002-09", 0.0), ("2003-12", -0.3)],
    "LS2": [("2002-09", -0.6), ("2003-06", -0.2), ("2003-12", 0.3)],
    "JOB1": [("2002-07", 0.3), ("2003-12", 0.6)],
    "APP1": [("2002-09", -0.6), ("2003-06", -1.6), ("2003-12", -0.5)],
}

# Each priority's own issue, decision sought, risk and ask, of the period; the Home Office
# ones draw on the seed (the new asylum model, NSA and fast track, removals capacity).
PRIORITY_TEXT: dict[str, dict[str, Any]] = {
    "HO1": {"issue": "Programme boards are not yet in place for the appeals strand.",
            "decision": "Agree that the Joint Programme Board takes the cross-cutting "
                        "'country focus' as its first standing item.",
            "risk": ("Strands of the asylum process improve separately and the end-to-end "
                     "time does not fall", "M", "H", "One end-to-end measure at every board"),
            "ask": ("Cabinet Office support to join up IND and appellate data", "Cabinet Office")},
    "HO2": {"issue": "Intake has fallen but applications from two source countries are rising.",
            "decision": "Agree to extend the non-suspensive appeals list to ten further "
                        "countries.",
            "risk": ("Displacement to other routes of entry", "M", "M",
                     "Monitor clandestine entry with the Immigration Service"),
            "ask": ("FCO help with returns agreements for the new NSA countries", "FCO")},
    "HO3": {"issue": "Fast-track capacity at Harmondsworth is filled only three days in five.",
            "decision": "Agree that the unit and IND review the referral criteria for fast "
                        "track.",
            "risk": ("Legal challenge to the fast-track process", "M", "H",
                     "Treasury Solicitor review of each procedural change"),
            "ask": None},
    "HO4": {"issue": "Caseworker recruitment is behind plan in two regions.",
            "decision": "Note that the 2-month target is on course; no decision sought.",
            "risk": ("Loss of newly trained caseworkers", "L", "M",
                     "Retention payments for critical posts"),
            "ask": None},
    "HO5": {"issue": "Appeals listing times have not fallen with decision times.",
            "decision": "Agree to legislate for a single tier of appeal in the next session.",
            "risk": ("Legislation timetable slips", "M", "H",
                     "Early engagement with the business managers"),
            "ask": ("Lord Chancellor's Department agreement to adjudicator sitting days",
                    "LCD")},
    "HO6": {"issue": "Quality audit shows weaker decisions on the newest caseworkers' files.",
            "decision": "Agree that every new caseworker's first 20 decisions are "
                        "second-checked.",
            "risk": ("Audit sample too small to show change", "L", "M",
                     "Double the sample for two quarters"),
            "ask": None},
    "HO7": {"issue": "Removals are limited by detention places and travel documents.",
            "decision": "Agree funding for 400 further removal centre places.",
            "risk": ("New removal centre places open late", "M", "H",
                     "Interim places agreed with the Prison Service"),
            "ask": ("HM Treasury agreement to reprofile capital spend", "HM Treasury")},
    "DH1": {"issue": "Winter pressures are expected to affect performance in December and "
                     "January.",
            "decision": "Agree that the unit leads a priority review of the five trusts "
                        "furthest off trajectory.",
            "risk": ("Trusts meet the 4-hour measure by moving patients, not by changing "
                     "the system", "M", "H", "Spot checks by the Emergency Care team"),
            "ask": None},
    "DfES1": {"issue": "Data for the latest term is predicted grades and may be revised.",
              "decision": "Agree to extend the London Challenge support model to a further "
                          "20 schools from September.",
              "risk": ("Expert heads leave the programme", "L", "M",
                       "Consultant leader contracts run to the end of the programme"),
              "ask": None},
    "DfES2": {"issue": "Three schools have yet to return predicted grades on the common "
                       "basis the programme agreed.",
              "decision": "Agree that the consultant heads set each school's GCSE target "
                          "with its governors by the spring term.",
              "risk": ("Predicted grades overstate the summer results", "M", "M",
                       "Predictions moderated against the mock examinations"),
              "ask": None},
    "DWP1": {"issue": "Employment in the most disadvantaged wards is rising more slowly than "
                      "nationally.",
             "decision": "Agree to target Jobcentre Plus employer engagement on the 30 "
                         "districts with the lowest employment rates.",
             "risk": ("Jobcentre Plus roll-out disrupts services to customers", "M", "M",
                      "Roll-out paced to office readiness reviews"),
             "ask": ("HM Treasury agreement to carry forward Jobcentre Plus capital",
                     "HM Treasury")},
    "BIS1": {"issue": "Small employers take on few Modern Apprentices; paperwork is the "
                      "reason most often given.",
             "decision": "Agree a simplified route for small employers to take on a Modern "
                         "Apprentice.",
             "risk": ("Completion rates fall as starts rise", "M", "H",
                      "Completion measured alongside starts in every LSC area"),
             "ask": ("DfES agreement to an incentive payment pilot", "DfES")},
}

# The first meeting of the task force (Sep 2003), item by item of the standing agenda for a
# first meeting: 1 performance pack, 2 and 3 the priorities, 4 any other business.
# "{performance}" is written from the ledger's figures by the secretariat's script
# (sample.rounds.hold_meeting), never typed here.
MEETING_DISCUSSION = {"EOL": [
    ("1", "The {unit} presented the performance pack. {performance}"),
    ("1", "Members noted that the figures for Modern Apprenticeships are quarterly and "
          "that the latest quarter is provisional."),
    ("2", "DWP described the second wave of Jobcentre Plus offices and the early results "
          "of employer engagement in the North West, to be reported by region to the next "
          "meeting."),
    ("3", "The LSC set out options to raise starts among small employers, including "
          "simpler paperwork and an incentive payment for an employer's first apprentice."),
    ("4", "No other business was raised."),
]}
MEETING_DECISIONS = [
    ("3", "The task force agreed that the LSC should bring forward a simplified route for "
          "small employers to take on a Modern Apprentice."),
    ("1", "The task force agreed that the performance pack should show Modern Apprenticeship "
          "starts by employer size from the next meeting."),
]
MEETING_ACTIONS = [
    ("Publish the simplified Modern Apprenticeship route for small employers",
     "Alan Johnson MP", "BIS", 42, "BIS1"),
    ("Report employer engagement results by region to the next meeting",
     "Des Browne MP", "DWP", 35, "DWP1"),
    ("Add Modern Apprenticeship starts by employer size to the performance pack",
     "Clare Whitmore, PMDU", "CO", 30, "BIS1"),
]


def _story(mid: str, period: str) -> float:
    pts = STORIES.get(mid, [("2000-01", 0.0)])
    if period <= pts[0][0]:
        return pts[0][1]
    for (p0, b0), (p1, b1) in zip(pts, pts[1:], strict=False):
        if p0 <= period <= p1:
            span = max(months_between(p0, p1), 1)
            return b0 + (b1 - b0) * months_between(p0, period) / span
    return pts[-1][1]


def sample_actual(reg: Register, mid: str, period: str, rng: random.Random) -> float:
    m = reg.measure(mid)
    planned = reg.trajectory(mid)[period]
    scale = m.tolerance_ar or max(abs(planned) * 0.05, 1)
    sign = 1 if m.direction == "up" else -1
    value = planned + sign * _story(mid, period) * scale + rng.gauss(0, 0.25 * scale)
    if m.unit == "percent":
        value = min(max(value, 0.0), 100.0)
        return round(value, 1)
    if m.unit == "points":
        return round(value, 1)
    return float(round(value))


def fill_workbook(template: Path, spec: WorkbookSpec, reg: Register, target: Path, *,
                  seed: int = 0, overrides: dict[tuple[str, int, str], Any] | None = None,
                  unit_ratings: dict | None = None,
                  meeting_facts: dict[str, str] | None = None) -> Path:
    """Fill every input cell of `template` like a department would; write to `target`."""
    rng = random.Random(f"{spec.template_id}-{seed}")
    wb = load_workbook(template)
    round_id = spec.round
    for _, block in spec.blocks():
        dn = wb.defined_names.get(block.name)
        if dn is None:
            continue
        rng_ = parse_ref(dn.attr_text)
        if rng_ is None:  # our own templates name one plain range per block
            raise ValueError(f"{template.name}: {block.name} is not a plain range")
        sheet = wb[rng_.sheet]
        rows = [*block.rows, *(SpecRow() for _ in range(block.free_rows))]
        values = _per_row(_block_values(block, reg, round_id, rng, spec, unit_ratings,
                                        meeting_facts))
        for i, row in enumerate(rows):
            for j, col in enumerate(block.columns):
                if block.rows and not cell_is_input(col, row):
                    continue
                v = values(i, row, col.key)
                if overrides and (block.name, i, col.key) in overrides:
                    v = overrides[(block.name, i, col.key)]
                elif v is None:
                    continue
                cell = sheet.cell(row=rng_.r1 + i, column=rng_.c1 + j)
                typ = cell_type(block, col, row)
                if isinstance(v, str):
                    write_text_cell(cell, v)
                else:
                    cell.value = excel_value(typ, v) if typ in ("percent", "period") else v
    return atomic_write(target, wb.save)


def _per_row(fn):
    """Draw each row's random values once, whichever of its cells is asked for first."""
    memo: dict[int, dict[str, Any]] = {}

    def values(i: int, row: dict, col: str) -> Any:
        if i not in memo:
            memo[i] = {}
            state = {"row": row}
            memo[i]["_fn"] = lambda c, state=state: fn(i, state["row"], c)
        if col not in memo[i]:
            memo[i][col] = memo[i]["_fn"](col)
        return memo[i][col]
    return values


def _block_values(block: BlockSpec, reg: Register, round_id: str, rng: random.Random,
                  spec: WorkbookSpec, unit_ratings: dict | None,
                  meeting_facts: dict[str, str] | None = None):
    kind, meta = block.kind, block.meta
    end = period_end(round_id) if round_id else _meeting_date(spec)
    if kind == "cover":
        people = {"HO": "Asha Patel", "DH": "Tom Reid", "DfES": "Grace Okafor",
                  "DWP": "Sam Hughes", "BIS": "Laura Chen", "UNIT": "Nina Shah",
                  "EOL": "Helen Marsh"}
        who = people.get(spec.department, "Returns officer")
        # a return is signed off before it is due; minutes a few days after the meeting
        due = reg.round(round_id).due if round_id else \
            _meeting_date(spec) + dt.timedelta(days=10)
        vals = {"Contact name": who,
                "Contact email": f"{who.split()[0].lower()}@{spec.department.lower()}.example",
                "Contact telephone": "020 7946 0000",
                "Signed off by (SRO or delegate)": "Senior Responsible Owner",
                "Sign-off date": due - dt.timedelta(days=rng.randint(2, 6))}
        return lambda i, row, col: vals.get(row.get("field"))
    if kind == "traj":
        mid = meta["measure"]

        def traj(i, row, col):
            p = row.get("period")
            if col == "actual":
                return sample_actual(reg, mid, p, rng)
            if col == "forecast":
                return reg.trajectory(mid)[p]
            return None
        return traj
    if kind == "orgs":
        mid = meta["measure"]
        m = reg.measure(mid)
        org_effect = {o.id: rng.gauss(0, 1.0) for o in reg.organisations_for(m)}

        drawn: dict[int, dict[str, Any]] = {}

        def orgs(i, row, col):
            if i not in drawn:
                drawn[i] = _org_row(i, row)
            return drawn[i].get(col)

        def _org_row(i, row):
            national = sample_actual(reg, mid, row["period"], rng)
            eff = org_effect.get(row["org"], 0.0)
            if m.has_denominator:
                # a stable size per organisation (str hash() differs run to run): a trust
                # sees thousands a month, a school has a Year 11 of a couple of hundred
                size = zlib.crc32(row["org"].encode())
                den = 150 + size % 120 if m.breakdown == "school" else 4000 + size % 5000
                den = int(den * (1 + rng.gauss(0, 0.05)))
                floor = m.plausible_min if m.plausible_min is not None else 0.0
                pct = min(99.9, max(floor, national + eff * 2.5 + rng.gauss(0, 0.6)))
                return {"numerator": int(round(den * pct / 100)), "denominator": den}
            return {"value": round(national + eff * (m.tolerance_ar or 1), 1)}
        return orgs
    if kind == "assess":
        pid = meta["priority"]
        ratings = _self_ratings(reg, pid, round_id, rng)

        def assess(i, row, col):
            if row.get("code") == "narrative":
                weak = [d for d in ("quality", "capacity", "likelihood")
                        if ratings[d] in ("AR", "R")]
                if weak:
                    return ("Progress is behind plan; the recovery actions agreed at the last "
                            "stocktake are being implemented and their effect will show in the "
                            "next quarter's data.")
                return "Delivery is broadly on track."
            return ratings.get(row.get("code"))
        return assess
    if kind == "miles":
        drawn_m: dict[int, dict[str, Any]] = {}

        def miles(i, row, col):
            if i not in drawn_m:
                drawn_m[i] = _mile_row(row)
            return drawn_m[i].get(col)

        def _mile_row(row):
            due = row["due"] if isinstance(row["due"], dt.date) else \
                dt.date.fromisoformat(row["due"])
            slip = rng.random() < 0.25
            if due <= end:
                status = "Delayed" if slip else "Complete"
                forecast = end + dt.timedelta(days=45) if slip else due
            else:
                status = "At risk" if slip else "On track"
                forecast = due + dt.timedelta(days=30) if slip else due
            return {"status": status, "forecast": forecast,
                    "comment": "Slipped: contractor delay." if slip else None}
        return miles
    if kind == "issues":
        own = PRIORITY_TEXT.get(meta.get("priority", ""), {})
        picks = [("Issue", own["issue"]), ("Decision sought", own["decision"])] if own else []
        return lambda i, row, col: (dict(zip(("type", "text"), picks[i], strict=True))
                                    .get(col) if i < len(picks) else None)
    if kind == "risks":
        r = PRIORITY_TEXT.get(meta.get("priority", ""), {}).get("risk")
        return lambda i, row, col: (dict(zip(("risk", "likelihood", "impact", "mitigation"),
                                              r, strict=True)).get(col) if i == 0 and r
                                    else None)
    if kind == "asks":
        a = PRIORITY_TEXT.get(meta.get("priority", ""), {}).get("ask")
        return lambda i, row, col: (dict(zip(("ask", "of_whom"), a, strict=True)).get(col)
                                    if i == 0 and a else None)
    if kind == "actions":
        def actions(i, row, col):
            due = row["due"] if isinstance(row["due"], dt.date) else \
                dt.date.fromisoformat(str(row["due"]))
            status = "done" if due <= end else "in progress"
            return {"status": status,
                    "update": "Completed and reported to the unit." if status == "done" else
                    "Work under way; on course for the due date."}.get(col)
        return actions
    if kind == "attendance":
        away = {"The Rt Hon Paul Boateng MP": ("apologies", None),
                "The Rt Hon Patricia Hewitt MP": ("represented",
                                                  "Simon Harcourt, Director General, DTI")}

        def attendance(i, row, col):
            status, by = away.get(row["name"], ("present", None))
            return {"attendance": status, "represented_by": by}.get(col)
        return attendance
    if kind == "discussion":
        facts = {"unit": "Delivery Unit", "performance": "", **(meeting_facts or {})}
        paras = [(item, text.format(**facts).strip())
                 for item, text in MEETING_DISCUSSION.get(spec.department, [])]
        return lambda i, row, col: (dict(zip(("item", "text"), paras[i], strict=True)).get(col)
                                    if i < len(paras) else None)
    if kind == "decisions":
        decs = MEETING_DECISIONS
        return lambda i, row, col: (dict(zip(("item", "text"), decs[i], strict=True)).get(col)
                                    if i < len(decs) else None)
    if kind == "new_actions":
        date = _meeting_date(spec)
        acts = [(d, o, dep, date + dt.timedelta(days=days), p)
                for d, o, dep, days, p in MEETING_ACTIONS]
        return lambda i, row, col: (dict(zip(("description", "owner", "department", "due",
                                              "priority"), acts[i], strict=True)).get(col)
                                    if i < len(acts) else None)
    if kind == "unit_assess":
        return lambda i, row, col: (unit_ratings or {}).get((row["priority"], col))
    if kind == "dept_narrative":
        def narrative(i, row, col):
            if col != "narrative":
                return None
            if row["department"] == "HO" and round_id == "2003-12":
                return SEED_NARRATIVE
            return (f"{row['name']} has made steady progress this round; the unit will "
                    "continue to work with the department on the priorities rated AR or R.")
        return narrative
    if kind == "challenges":
        rows = [("HO", n, pid, c, p) for n, (pid, (c, p)) in
                enumerate(zip(SEED_CHALLENGE_PRIORITY, SEED_CHALLENGES, strict=True), start=1)]
        rows += [("DH", 1, "DH1", "Sustain A&E improvement through winter",
                  "Weekly monitoring in place; see and treat adopted widely.")]
        known = {p.id for p in reg.priorities}  # another programme: the challenge stays untied
        rows = [(d, n, pid if pid in known else "", c, p) for d, n, pid, c, p in rows]
        return lambda i, row, col: (dict(zip(("department", "number", "priority", "challenge",
                                              "progress"),
                                             rows[i], strict=True)).get(col)
                                    if i < len(rows) else None)
    return lambda i, row, col: None


def _meeting_date(spec: WorkbookSpec) -> dt.date:
    date = next(r["value"] for r in spec.sheets[0].blocks[0].rows
                if r["field"] == "Meeting date")
    return date if isinstance(date, dt.date) else dt.date.fromisoformat(str(date))


def _self_ratings(reg: Register, pid: str, round_id: str, rng: random.Random) -> dict[str, str]:
    """A department's self-assessment: the seed's judgement for the Home Office (departments
    rate themselves a notch kinder now and then), else led by the data."""
    seed = SEED_TABLE.get(round_id, {}).get(pid)
    if seed:
        out = dict(zip(("challenge", "quality", "capacity", "stage", "likelihood"), seed,
                       strict=True))
        if out["likelihood"] in ("R", "AR") and rng.random() < 0.5:
            out["likelihood"] = {"R": "AR", "AR": "AG"}[out["likelihood"]]
        return out
    rags = []
    for m in reg.measures_of(pid):
        traj = reg.trajectory(m.id)
        if round_id in traj:
            rags.append(data_rag(m, traj[round_id], sample_actual(reg, m.id, round_id, rng)))
        else:
            last = max((p for p in traj if p <= round_id), default=None)
            if last:
                rags.append(data_rag(m, traj[last], sample_actual(reg, m.id, last, rng)))
    order = ["G", "AG", "AR", "R"]
    worst = max((r for r in rags if r), key=order.index, default="AG")
    return {"challenge": "H", "quality": "AG" if worst in ("G", "AG") else "AR",
            "capacity": "AG", "stage": "2" if round_id < "2003-07" else "3",
            "likelihood": worst}


def unit_ratings_for(reg: Register, round_id: str, self_ratings: dict) -> dict:
    """The unit's judgement: the seed's table for the Home Office; for others, the
    self-assessment, one notch harsher on likelihood where the department was optimistic."""
    out = {}
    for pr in reg.priorities:
        seed = SEED_TABLE.get(round_id, {}).get(pr.id)
        dims = ("challenge", "quality", "capacity", "stage", "likelihood")
        for k, dim in enumerate(dims):
            if seed:
                v = seed[k]
            else:
                v = self_ratings.get((pr.id, dim)) or ("AG" if dim != "stage" else "2")
                if dim == "challenge" and v not in ("L", "M", "H", "VH"):
                    v = "H"
            out[(pr.id, f"unit_{dim}")] = v
        weak = [d for d in ("quality", "capacity", "likelihood")
                if out[(pr.id, f"unit_{d}")] in ("AR", "R")]
        own = PRIORITY_TEXT.get(pr.id, {})
        out[(pr.id, "narrative")] = (
            ("The unit judges delivery at risk (" + ", ".join(weak) + " rated AR or R). "
             if weak else "The unit judges delivery on course. ") + own.get("issue", ""))
    return out
