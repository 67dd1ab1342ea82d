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
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

from ..consolidation.rag import data_rag
from ..domain import Register
from ..outputs.files import atomic_write, write_text_cell
from ..periods import months_between, period_end
from ..returns.read import parse_ref
from ..templates.build import cell_is_input, cell_type, excel_value
from ..templates.layout import BlockSpec, WorkbookSpec
from .programme import SEED_CHALLENGES, SEED_NARRATIVE, SEED_TABLE

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
    "JOB1": [("2002-07", 0.3), ("2003-12", 0.6)],
    "APP1": [("2002-09", -0.6), ("2003-06", -1.2), ("2003-12", -0.5)],
}

ISSUES = ["Recruitment of caseworkers is behind plan in two regions.",
          "Data for the latest month is provisional and may be revised.",
          "Winter pressures are expected to affect performance in December and January."]
DECISIONS = ["Agree to pilot the new approach in three further areas from April.",
             "Agree that the unit leads a priority review of the worst-performing areas."]
RISKS = [("Legislation timetable slips", "M", "H", "Early engagement with business managers"),
         ("Key IT system delivered late", "M", "M", "Fallback manual process agreed"),
         ("Loss of experienced staff", "L", "M", "Retention payments for critical posts")]
ASKS = [("Cabinet Office support to unblock cross-departmental data sharing", "Cabinet Office"),
        ("HM Treasury agreement to reprofile capital spend", "HM Treasury")]


MEETING_DISCUSSION = {"EOL": [
    ("1", "The task force noted progress on the actions from the last meeting; two remain "
          "open and are on course."),
    ("2", "The Implementation Unit presented the performance pack. Net new jobs are ahead of "
          "trajectory; apprenticeship starts are below trajectory for a third quarter."),
    ("2", "Members noted that the fall in apprenticeship starts is concentrated in small "
          "employers, where the levy reforms have yet to take effect."),
    ("3", "DWP described the employer engagement programme and its early results in the "
          "North West, where vacancies filled through Jobcentre Plus rose by a fifth."),
    ("4", "BIS set out options to raise starts among small employers, including a simplified "
          "application and a temporary incentive payment."),
    ("5", "No other business was raised."),
]}
MEETING_DECISIONS = [
    ("4", "The task force agreed that BIS should bring forward a simplified application "
          "route for small employers."),
    ("2", "The task force agreed that the performance pack should include starts by employer "
          "size from the next meeting."),
]
MEETING_ACTIONS = [
    ("Publish the simplified apprenticeship application route for small employers",
     "Minister of State for Business, Innovation and Skills", "BIS", 42, "BIS1"),
    ("Report employer engagement results by region to the next meeting",
     "Minister of State for Employment", "DWP", 35, "DWP1"),
    ("Add apprenticeship starts by employer size to the performance pack",
     "Director, Implementation Unit", "CO", 30, "BIS1"),
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
                  unit_ratings: dict | None = None) -> Path:
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
        ws = wb[rng_.sheet]
        rows = block.rows + [{} for _ in range(block.free_rows)]
        values = _per_row(_block_values(block, reg, round_id, rng, spec, unit_ratings))
        for i, row in enumerate(rows):
            for j, col in enumerate(block.columns):
                if block.rows and not cell_is_input(col, row):
                    continue
                v = values(i, row, col.key)
                if overrides and (block.name, i, col.key) in overrides:
                    v = overrides[(block.name, i, col.key)]
                elif v is None:
                    continue
                cell = ws.cell(row=rng_.r1 + i, column=rng_.c1 + j)
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
                  spec: WorkbookSpec, unit_ratings: dict | None):
    kind, meta = block.kind, block.meta
    end = period_end(round_id) if round_id else _meeting_date(spec)
    if kind == "cover":
        people = {"HO": "Asha Patel", "DH": "Tom Reid", "DfES": "Grace Okafor",
                  "DWP": "Sam Hughes", "BIS": "Laura Chen", "UNIT": "Delivery Unit analyst"}
        who = people.get(spec.department, "Returns officer")
        due = reg.round(round_id).due if round_id else _meeting_date(spec)
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
                den = 4000 + (abs(hash(row["org"])) % 5000)
                den = int(den * (1 + rng.gauss(0, 0.05)))
                pct = min(99.9, max(50.0, national + eff * 2.5 + rng.gauss(0, 0.6)))
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
        picks = [("Issue", rng.choice(ISSUES)), ("Decision sought", rng.choice(DECISIONS))]
        return lambda i, row, col: (dict(zip(("type", "text"), picks[i], strict=True))
                                    .get(col) if i < len(picks) else None)
    if kind == "risks":
        r = rng.choice(RISKS)
        return lambda i, row, col: (dict(zip(("risk", "likelihood", "impact", "mitigation"),
                                              r, strict=True)).get(col) if i == 0 else None)
    if kind == "asks":
        a = rng.choice(ASKS) if rng.random() < 0.8 else None
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
        away = {"The Rt Hon Greg Hands MP": ("apologies", None),
                "The Rt Hon Greg Clark MP": ("represented", "Permanent Secretary, DCLG")}

        def attendance(i, row, col):
            status, by = away.get(row["name"], ("present", None))
            return {"attendance": status, "represented_by": by}.get(col)
        return attendance
    if kind == "discussion":
        paras = MEETING_DISCUSSION.get(spec.department, [])
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
        rows = [("HO", n, c, p) for n, (c, p) in enumerate(SEED_CHALLENGES, start=1)]
        rows += [("DH", 1, "Sustain A&E improvement through winter",
                  "Weekly monitoring in place; see and treat adopted widely.")]
        return lambda i, row, col: (dict(zip(("department", "number", "challenge", "progress"),
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
        out[(pr.id, "narrative")] = (
            "The unit judges delivery at risk: " + ", ".join(weak) + " rated AR or R. A "
            "priority review is recommended." if weak else "On course; keep up the pace.")
    return out
