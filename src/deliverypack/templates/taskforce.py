"""Task forces: the meeting record workbook, and what an accepted record puts in the ledger.

A meeting record is issued, filled by the secretariat and ingested exactly like a return
(same cell map, protection, dropdowns and checks). Accepting it stores the meeting, its
decisions and new actions (with stable ids such as EOL-02-A03) and the status of old ones;
new actions then appear in the owning department's next return and in the next agenda pack.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..foundation.domain import Register
from ..foundation.errors import UsageError
from ..ledger import Ledger
from ..ledger.workspace import Workspace
from ..validation.checks import BookRead
from ..validation.issues import Issue
from ..validation.layout import (
    BlockSpec,
    ColumnSpec,
    SheetSpec,
    SpecRow,
    WorkbookSpec,
    actions_block,
    cover_block,
    cover_input,
    fingerprint,
)
from .build import build_workbook

ATTENDANCE = ["present", "apologies", "represented"]
# Where and when a meeting is held unless the secretariat types otherwise on the record.
MEETING_TIME, MEETING_VENUE = "10:00", "Conference Room A, 70 Whitehall, London SW1A 2AS"


def agenda_items(reg: Register, tf_id: str, *, first: bool, unit: str) -> list[dict[str, Any]]:
    """The standing agenda: matters arising only when there was a previous meeting, the
    unit's performance pack, one item per priority, any other business."""
    tf = reg.taskforce(tf_id)
    rows: list[dict[str, Any]] = []
    if not first:
        rows.append({"title": "Matters arising: actions from the last meeting",
                     "lead": "Secretariat"})
    rows.append({"title": "Performance pack: progress against trajectories", "lead": unit})
    rows += [{"title": reg.priority(p).title, "lead": reg.priority(p).lead}
             for p in tf.priorities]
    rows.append({"title": "Any other business", "lead": "Chair"})
    return [{"no": k, **r} for k, r in enumerate(rows, start=1)]


def meetings_of(led: Ledger, tf_id: str) -> list[dict[str, Any]]:
    rows = led.query("SELECT * FROM meetings WHERE taskforce_id=? ORDER BY date", tf_id)
    return [{**dict(r), "record": json.loads(r["record"])} for r in rows]


def next_meeting(reg: Register, led: Ledger, tf_id: str, date: dt.date | None
                 ) -> tuple[str, dt.date]:
    """The next meeting's id (EOL-03) and date: given, or one cycle after the last meeting
    the ledger holds. Never the day the file is built: the date is printed on the record
    and the pack and chooses the round the pack reports, so a rerun must write the same."""
    tf = reg.taskforce(tf_id)
    past = meetings_of(led, tf_id)
    if date is None:
        if not past:
            raise UsageError(f"task force {tf_id} has not met yet, so its next meeting has no "
                             "date to follow from: give the first meeting's date with --date "
                             "YYYY-MM-DD")
        date = dt.date.fromisoformat(past[-1]["date"]) + dt.timedelta(weeks=tf.cycle_weeks)
    return f"{tf_id}-{len(past) + 1:02d}", date


def meeting_origin(tf_id: str, meeting_id: str) -> str:
    """The origin an action allocated at a task force meeting is recorded with."""
    return f"Task force {tf_id} meeting {meeting_id}"


def taskforce_of_origin(origin: str) -> str | None:
    """The task force an action's origin names ('Task force EOL' or 'Task force EOL meeting
    EOL-01' -> 'EOL'), matched whole: task force EOL does not own EOL2's actions."""
    m = re.fullmatch(r"Task force (\S+)(?: meeting \S+)?", origin.strip())
    return m.group(1) if m else None


def open_actions_for(reg: Register, led: Ledger, tf_id: str) -> list[Any]:
    """Open actions of the task force's own meetings and of its priorities."""
    tf = reg.taskforce(tf_id)
    return [a for a in led.actions(open_only=True)
            if taskforce_of_origin(a["origin"]) == tf_id or a["priority_id"] in
            tf.priorities]


def meeting_spec(reg: Register, led: Ledger, tf_id: str, date: dt.date,
                 unit: str = "Delivery Unit") -> WorkbookSpec:
    tf = reg.taskforce(tf_id)
    meeting_id, _ = next_meeting(reg, led, tf_id, date)
    members = reg.members_of(tf_id)
    attendance = BlockSpec(
        name="dp_attendance", kind="attendance", title="Members: attendance",
        columns=[ColumnSpec(key="name", header="Name", role="key", width=34),
                 ColumnSpec(key="role", header="Role", role="locked", width=50),
                 ColumnSpec(key="organisation", header="Organisation", role="locked",
                            width=16),
                 ColumnSpec(key="kind", header="Kind", role="locked", width=12),
                 ColumnSpec(key="attendance", header="Attendance", type="code",
                            allowed=ATTENDANCE, role="input", required=True, width=14,
                            prompt="present, apologies or represented"),
                 ColumnSpec(key="represented_by", header="Represented by", role="input",
                            width=30)],
        rows=[{"name": m.name, "role": m.role, "organisation": m.organisation,
               "kind": m.kind} for m in members])
    first = not [m for m in meetings_of(led, tf_id) if m["date"] < date.isoformat()]
    agenda_rows = agenda_items(reg, tf_id, first=first, unit=unit)
    agenda = BlockSpec(
        name="dp_agenda", kind="agenda", title="Agenda",
        columns=[ColumnSpec(key="no", header="No.", type="int", role="key", width=6),
                 ColumnSpec(key="title", header="Item", role="locked", width=60),
                 ColumnSpec(key="lead", header="Lead", role="locked", width=30)],
        rows=agenda_rows)
    prev = actions_block(open_actions_for(reg, led, tf_id), name="dp_prev_actions",
                         title="Actions from previous meetings",
                         note="Give each a status and a short update.")
    item_nos = [str(r["no"]) for r in agenda_rows]
    discussion = BlockSpec(
        name="dp_discussion", kind="discussion", title="Record of discussion",
        note="One paragraph a row, under the agenda item it belongs to.",
        columns=[ColumnSpec(key="item", header="Agenda item", type="code", allowed=item_nos,
                            width=12),
                 ColumnSpec(key="text", header="Paragraph", width=100)], free_rows=24)
    decisions = BlockSpec(
        name="dp_decisions", kind="decisions", title="Decisions",
        columns=[ColumnSpec(key="item", header="Agenda item", type="code", allowed=item_nos,
                            width=12),
                 ColumnSpec(key="text", header="Decision", width=100)], free_rows=8)
    new_actions = BlockSpec(
        name="dp_new_actions", kind="new_actions", title="New actions",
        note="Every action needs an owner and a due date after the meeting.",
        columns=[ColumnSpec(key="description", header="Action", width=60),
                 ColumnSpec(key="owner", header="Owner", width=28),
                 ColumnSpec(key="department", header="Department", type="code",
                            allowed=[d.id for d in reg.departments] + ["CO"], width=12),
                 ColumnSpec(key="due", header="Due date", type="date", width=12),
                 ColumnSpec(key="priority", header="Priority", type="code",
                            allowed=[p.id for p in reg.priorities], width=10)], free_rows=12)
    distribution = BlockSpec(
        name="dp_distribution", kind="distribution", title="Distribution list",
        note="Keep it tight: the minutes go to these people only.",
        columns=[ColumnSpec(key="name", header="Name", width=40),
                 ColumnSpec(key="organisation", header="Organisation", width=24)],
        rows=[{"name": m.name, "organisation": m.organisation} for m in members
              if m.kind != "secretariat"], free_rows=4)
    extra = [
        SpecRow(values={"field": "Task force", "value": tf_id}),
        SpecRow(values={"field": "Meeting", "value": meeting_id}),
        SpecRow(values={"field": "Meeting date", "value": date}, types={"value": "date"}),
        SpecRow(values={"field": "Chair", "value": tf.chair}),
        cover_input("Time", MEETING_TIME), cover_input("Venue", MEETING_VENUE)]
    return fingerprint(WorkbookSpec(
        template_id="", kind="meeting", department=tf_id, round="",
        title=f"{tf.name} meeting record {date:%d %B %Y}",
        instructions=["Meeting record for the secretariat",
                      "Fill attendance, the record of discussion, decisions and new actions; "
                      "update the actions from previous meetings.",
                      "Then: deliverypack minutes THIS_FILE, which checks it, stores the meeting "
                      "in the ledger and writes the minutes."],
        sheets=[SheetSpec(name="Cover", heading=tf.name,
                          subheading=f"Meeting {meeting_id}, {date:%d %B %Y}",
                          blocks=[cover_block("meeting", "", tf_id, tf.name, "", extra)]),
                SheetSpec(name="Attendance", heading="Attendance and distribution",
                          blocks=[attendance, distribution]),
                SheetSpec(name="Agenda", heading="Agenda", blocks=[agenda]),
                SheetSpec(name="Actions", heading="Actions", blocks=[prev, new_actions]),
                SheetSpec(name="Record", heading="Record of discussion and decisions",
                          blocks=[discussion, decisions])]))


def issue_meeting_record(workspace: Workspace, tf_id: str, date: dt.date | None = None,
                         target: Path | None = None) -> Path:
    reg, led = workspace.register, workspace.ledger
    if tf_id not in {t.id for t in reg.taskforces}:
        raise UsageError(f"unknown task force {tf_id!r}; the register has: "
                         f"{', '.join(t.id for t in reg.taskforces) or 'none'}")
    meeting_id, date = next_meeting(reg, led, tf_id, date)
    spec = meeting_spec(reg, led, tf_id, date, workspace.unit_name)
    path = Path(target or workspace.root / "meetings" / f"{meeting_id}-record.xlsx")
    build_workbook(spec, path)
    led.record_template(spec, path.name)
    return path


def meeting_of(read: BookRead) -> dict[str, Any]:
    cover = read.cover()
    blocks = {b.spec.kind: b for b in read.blocks}
    return {"taskforce": cover.get("Task force"), "meeting": cover.get("Meeting"),
            "date": cover.get("Meeting date"), "blocks": blocks}


def check_meeting(read: BookRead) -> Iterator[Issue]:
    """New actions due after the meeting (what each needs is in the rulebook,
    validation/rules.py, and checked with every table)."""
    date = read.cover().get("Meeting date")
    if isinstance(date, str):
        date = dt.date.fromisoformat(date)
    block = next(read.of_kind("new_actions"), None)  # required cells: the rulebook's
    for row in block.rows if block else []:
        due = row.get("due")
        if isinstance(due, dt.date) and date and due <= date:
            yield row.at("due").issue("due-before-meeting", found=f"{due:%d %b %Y}",
                                      expected=f"{date:%d %b %Y}")


def store_meeting(workspace: Workspace, read: BookRead, submission_id: int) -> None:
    """Keep the meeting, its decisions and new actions (with stable ids) in the ledger."""
    m = meeting_of(read)
    led = workspace.ledger
    blocks = m["blocks"]
    tf_id, meeting_id = m["taskforce"], m["meeting"]
    date = m["date"]
    new_ids = []
    new_rows = blocks["new_actions"].rows if "new_actions" in blocks else []
    for k, row in enumerate(new_rows, start=1):
        aid = f"{meeting_id}-A{k:02d}"
        new_ids.append(aid)
        led.upsert_action({"id": aid, "description": row.get("description"),
                           "owner": row.get("owner"), "department": row.get("department") or "",
                           "priority_id": row.get("priority") or "", "due": row.get("due"),
                           "origin": meeting_origin(tf_id, meeting_id)})
    cover = read.cover()
    signed = cover.get("Sign-off date")
    record = {
        "time": cover.get("Time") or MEETING_TIME, "venue": cover.get("Venue") or MEETING_VENUE,
        "author": cover.get("Contact name") or "",
        "issued": signed.isoformat() if isinstance(signed, dt.date) else str(signed or ""),
        "attendance": [{"name": r.key[0], "role": r.get("role"), "kind": r.get("kind"),
                        "attendance": r.get("attendance"),
                        "represented_by": r.get("represented_by")}
                       for r in _rows(blocks, "attendance")],
        "distribution": [r.get("name") for r in _rows(blocks, "distribution") if r.get("name")],
        # each name with its organisation, as typed (the list above stays names only)
        "distribution_detail": [{"name": r.get("name"), "organisation": r.get("organisation")}
                                for r in _rows(blocks, "distribution") if r.get("name")],
        "agenda": [{"no": r.key[0], "title": r.get("title"), "lead": r.get("lead")}
                   for r in _rows(blocks, "agenda")],
        "discussion": [{"item": r.get("item"), "text": r.get("text")}
                       for r in _rows(blocks, "discussion") if r.get("text")],
        "decisions": [{"item": r.get("item"), "text": r.get("text")}
                      for r in _rows(blocks, "decisions") if r.get("text")],
        "new_actions": new_ids,
        "updated_actions": [r.key[0] for r in blocks["actions"].rows]
        if "actions" in blocks else [],
    }
    led.db.execute("INSERT OR REPLACE INTO meetings VALUES (?,?,?,?,?)",
                   (meeting_id, tf_id, date.isoformat() if isinstance(date, dt.date) else
                    str(date), submission_id, json.dumps(record)))


def _rows(blocks: dict, kind: str) -> list:
    return blocks[kind].rows if kind in blocks else []

