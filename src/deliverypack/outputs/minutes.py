"""Minutes of a task force meeting: validate the record, store it, write the minutes."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from ..errors import DeliverypackError
from ..returns.ingest import ingest_file, validate_file
from ..taskforce import meetings_of
from ..validation.report import FileReport
from ..workspace import Workspace
from .documents import render, template


class RecordRejected(DeliverypackError):
    def __init__(self, report: FileReport):
        self.report = report
        super().__init__(f"{report.file} was rejected: {len(report.errors)} problem(s); "
                         "nothing was stored")


def minutes_context(ws: Workspace, meeting: dict) -> dict:
    reg, led = ws.register, ws.ledger
    tf = reg.taskforce(meeting["taskforce_id"])
    rec = meeting["record"]
    present = [a for a in rec["attendance"] if a["attendance"] in ("present", "represented")]
    apologies = [a["name"] for a in rec["attendance"] if a["attendance"] == "apologies"]
    secretariat = [a["name"] for a in rec["attendance"] if a["kind"] == "secretariat"]
    n = 0
    items = []
    for item in rec["agenda"]:
        paras = []
        for d in rec["discussion"]:
            if str(d["item"]) == str(item["no"]):
                n += 1
                paras.append({"n": n, "text": d["text"]})
        items.append({"no": item["no"], "title": item["title"], "lead": item["lead"],
                      "paragraphs": paras})
    decisions = []
    for d in rec["decisions"]:
        n += 1
        decisions.append({"n": n, "text": d["text"]})
    actions = []
    for aid in rec["new_actions"]:
        a = next(x for x in led.actions() if x["id"] == aid)
        actions.append({"id": aid, "description": a["description"], "owner": a["owner"],
                        "due": dt.date.fromisoformat(a["due"]).strftime("%d %b %Y")})
    date = dt.date.fromisoformat(meeting["date"])
    return {"marking": tf.protective_marking or ws.marking, "taskforce": tf.name,
            "meeting_id": meeting["id"], "date": f"{date:%A %d %B %Y}", "chair": tf.chair,
            "distribution": "; ".join(rec["distribution"]), "present": present,
            "apologies": "; ".join(apologies) or "None", "items": items,
            "decisions": decisions, "actions": actions,
            "secretariat": ", ".join(secretariat) or "Secretariat"}


def write_minutes(ws: Workspace, record: Path, *, target: Path | None = None,
                  word_template: Path | None = None) -> tuple[Path, FileReport]:
    checked, _ = validate_file(ws, Path(record))
    if checked.kind != "meeting":  # checked before anything is kept
        from ..errors import UsageError
        what = f"a {checked.kind}" if checked.kind else "not a workbook deliverypack issued"
        raise UsageError(f"{Path(record).name} is not a meeting record (it is {what}); "
                         "make one with: deliverypack meeting-record TASKFORCE")
    report = ingest_file(ws, Path(record))
    if not report.valid:
        raise RecordRejected(report)
    meeting = next(m for m in meetings_of(ws.ledger, report.department)
                   if m["submission_id"] == report.submission_id)
    target = Path(target or ws.outputs / f"minutes-{meeting['id']}.docx")
    return render(template("minutes", word_template), minutes_context(ws, meeting),
                  target), report
