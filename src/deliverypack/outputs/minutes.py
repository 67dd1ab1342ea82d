"""Minutes of a task force meeting: validate the record, store it, write the minutes."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from ..foundation.errors import DeliverypackError
from ..ledger.workspace import Workspace
from ..returns.ingest import ingest_file, validate_file
from ..templates.taskforce import meetings_of
from ..validation.report import FileReport
from .documents import render, template


class RecordRejected(DeliverypackError):
    def __init__(self, report: FileReport):
        self.report = report
        super().__init__(f"{report.file} was rejected: {len(report.errors)} problem(s); "
                         "nothing was stored")


def _day(value: str | None) -> str:
    try:
        return f"{dt.date.fromisoformat(str(value)[:10]):%d %B %Y}".lstrip("0")
    except ValueError:
        return ""


def people(attendance: list[dict], kinds: tuple[str, ...] = ("minister", "official",
                                                              "secretariat")) -> list[dict]:
    """Those present, grouped as minutes list them: ministers, officials, secretariat."""
    groups = {"minister": "Ministers", "official": "Officials", "secretariat": "Secretariat"}
    out = []
    for kind in kinds:
        names = [f"{a['name']}, {a['role']}" + (f" (represented by {a['represented_by']})"
                                                  if a.get("represented_by") else "")
                 for a in attendance if a["kind"] == kind
                 and a["attendance"] in ("present", "represented")]
        if names:
            out.append({"group": groups[kind], "names": names})
    return out


def minutes_context(workspace: Workspace, meeting: dict) -> dict:
    """Everything the minutes say, from the meeting record and the register; figures only
    as the secretariat recorded them."""
    reg, led = workspace.register, workspace.ledger
    tf = reg.taskforce(meeting["taskforce_id"])
    rec = meeting["record"]
    first = not [m for m in meetings_of(led, tf.id) if m["date"] < meeting["date"]]
    apologies = [a["name"] for a in rec["attendance"] if a["attendance"] == "apologies"]
    secretariat = next((a for a in rec["attendance"] if a["kind"] == "secretariat"), None)
    n = 0
    items = []
    for item in rec["agenda"]:
        paras = []
        for d in rec["discussion"]:
            if str(d["item"]) == str(item["no"]):
                n += 1
                paras.append({"n": n, "text": d["text"]})
        if first and not paras and str(item["title"]).lower().startswith(
                ("matters arising", "actions from the last meeting")):
            continue  # a first meeting has no previous meeting to follow up
        items.append({"no": item["no"], "title": item["title"], "lead": item["lead"],
                      "paragraphs": paras})
    decisions = []
    for d in rec["decisions"]:
        n += 1
        decisions.append({"n": n, "text": d["text"]})
    actions = []
    by_id = {a["id"]: a for a in led.actions()}
    for aid in rec["new_actions"]:
        a = by_id[aid]
        actions.append({"id": aid, "description": a["description"], "owner": a["owner"],
                        "due": dt.date.fromisoformat(a["due"]).strftime("%d %b %Y")})
    date = dt.date.fromisoformat(meeting["date"])
    nxt = date + dt.timedelta(weeks=tf.cycle_weeks)
    author = rec.get("author") or (secretariat["name"] if secretariat else "")
    role = secretariat["role"] if secretariat else "Secretariat"
    return {"marking": tf.protective_marking or workspace.marking, "taskforce": tf.name,
            "unit": workspace.unit_name, "meeting_id": meeting["id"], "date": f"{date:%A %d %B %Y}",
            "time": rec.get("time") or "", "venue": rec.get("venue") or "",
            "chair": tf.chair, "distribution": "; ".join(rec["distribution"]),
            "present": people(rec["attendance"]),
            "apologies": "; ".join(apologies) or "None", "items": items,
            "decisions": decisions, "actions": actions,
            "next_meeting": f"{nxt:%A %d %B %Y} (every {tf.cycle_weeks} weeks)",
            "author": author, "author_role": role,
            "issued": _day(rec.get("issued")) or f"{date:%d %B %Y}"}


def write_minutes(workspace: Workspace, record: Path, *, target: Path | None = None,
                  word_template: Path | None = None) -> tuple[Path, FileReport]:
    checked, _ = validate_file(workspace, Path(record))
    if checked.kind != "meeting":  # checked before anything is kept
        from ..foundation.errors import UsageError
        what = f"a {checked.kind}" if checked.kind else "not a workbook deliverypack issued"
        raise UsageError(f"{Path(record).name} is not a meeting record (it is {what}); "
                         "make one with: deliverypack meeting-record TASKFORCE")
    report = ingest_file(workspace, Path(record))
    if not report.valid:
        raise RecordRejected(report)
    meeting = next(m for m in meetings_of(workspace.ledger, report.department)
                   if m["submission_id"] == report.submission_id)
    target = Path(target or workspace.outputs / f"minutes-{meeting['id']}.docx")
    return render(template("minutes", word_template), minutes_context(workspace, meeting),
                  target), report
