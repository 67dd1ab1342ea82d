"""The sample programme's rounds, run end to end: shared by `demo` and by the script that
makes sample_returns/ (which fills the templates instead of reading filled files)."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable
from pathlib import Path

from ..foundation.resources import shipped
from ..ledger.workspace import Workspace
from ..returns.ingest import ingest_file
from ..templates.issue import issue_assessment, issue_organisation_returns, issue_returns
from ..validation.layout import WorkbookSpec
from ..validation.report import FileReport

SAMPLE_RETURNS = shipped("sample_returns")

# Who sent what late, who sent a broken return first, who did not return at all.
LATE_DAYS = {("DfES", "2003-07"): 5, ("DWP", "2003-12"): 3}
NOT_RETURNED = {("BIS", "2003-12")}
BROKEN_FIRST = {("DH", "2003-12")}


MEETING_BEFORE_ROUND = "2003-12"  # the Earn or Learn meeting falls between Jul and Dec 2003
MEETINGS = (dt.date(2003, 9, 15), dt.date(2004, 1, 26))


def hold_meeting(workspace: Workspace) -> dict[str, Path]:
    """An Earn or Learn meeting: record issued, filled by the sample filler, minutes written;
    its actions then reach the departments' next returns."""
    from ..consolidation.views import measure_series
    from ..outputs.facts import performance_sentence, round_as_of
    from ..outputs.minutes import write_minutes
    from ..templates.taskforce import issue_meeting_record
    from .filler import fill_workbook

    reg = workspace.register
    record = issue_meeting_record(workspace, "EOL", MEETINGS[0])
    spec = _spec(workspace, record)
    # what the secretariat records of the figures is what the ledger held on the day
    as_of = round_as_of(reg, MEETINGS[0])
    performance = " ".join(performance_sentence(measure_series(reg, workspace.ledger, m, as_of))
                           for p in reg.taskforce("EOL").priorities
                           for m in reg.measures_of(p))
    filled = fill_workbook(record, spec, reg,
                           record.with_name(record.name.replace("-record", "-record-filled")),
                           meeting_facts={"performance": performance, "unit": workspace.unit_name})
    minutes, _ = write_minutes(workspace, filled)
    return {"meeting record": record, "minutes": minutes}


def received_at(workspace: Workspace, dept: str, round_id: str) -> dt.datetime:
    due = workspace.register.round(round_id).due
    day = due + dt.timedelta(days=LATE_DAYS.get((dept, round_id), -2))
    return dt.datetime.combine(day, dt.time(10, 30))


Source = Callable[[Workspace, str, list[Path]], list[Path]]


def run_round(workspace: Workspace, round_id: str, returns: Source, assessments: Source
              ) -> list[FileReport]:
    """templates -> returns in -> ingest -> unit assessment -> ingest, for one round."""
    reports = []
    templates = issue_returns(workspace, round_id) + \
        issue_organisation_returns(workspace, round_id)
    for path in returns(workspace, round_id, templates):
        dept = path.name.split("-")[0]
        reports.append(ingest_file(workspace, path, received=received_at(workspace, dept,
                                                                         round_id)))
    assessment = issue_assessment(workspace, round_id)
    for path in assessments(workspace, round_id, [assessment]):
        reports.append(ingest_file(workspace, path, received=received_at(workspace, "UNIT",
                                                                         round_id)))
    return reports


def from_samples(kind: str, folder: Path = SAMPLE_RETURNS) -> Source:
    """Files as they were sent: sample_returns/ROUND/, returns or the unit's assessment."""
    def source(workspace: Workspace, round_id: str, templates: list[Path]) -> list[Path]:
        files = sorted(f for f in (folder / round_id).glob("*.xlsx")
                       if f.name.startswith("assessment") == (kind == "assessment"))
        if kind != "assessment":  # the organisations' own returns, after the departments'
            files += sorted((folder / round_id / "organisations").glob("*.xlsx"))
        first = [f for f in files if "attempt1" in f.name]
        return first + [f for f in files if f not in first]
    return source


def make_samples(out: Path, workdir: Path) -> None:
    """Fill every round's templates with the filler and keep them as sample returns."""
    from openpyxl import load_workbook  # noqa: F401  (the filler uses it)

    from .filler import fill_workbook, unit_ratings_for
    from .programme import sample_workspace

    if workdir.exists():
        shutil.rmtree(workdir)
    workspace = sample_workspace(workdir, demo=True)
    reg = workspace.register

    def returns(workspace: Workspace, round_id: str, templates: list[Path]) -> list[Path]:
        folder = out / round_id
        folder.mkdir(parents=True, exist_ok=True)
        paths = []
        for t in templates:
            dept = t.name.split("-")[0]
            if (dept, round_id) in NOT_RETURNED:
                continue
            spec = _spec(workspace, t)
            if (dept, round_id) in BROKEN_FIRST:
                bad = folder / f"{dept}-{round_id}-attempt1.xlsx"
                traj = next(b for _, b in spec.blocks() if b.kind == "traj")
                i = next(k for k, r in enumerate(traj.rows) if "actual" in r.inputs)
                assess = next(b for _, b in spec.blocks() if b.kind == "assess")
                fill_workbook(t, spec, reg, bad, overrides={
                    (traj.name, i, "actual"): "n/a", (traj.name, i + 1, "actual"): "94,5",
                    (assess.name, 4, "now"): "Red", (assess.name, 5, "now"): None})
                paths.append(bad)
            target = folder / t.parent.relative_to(workspace.outbox(round_id)) / t.name
            target.parent.mkdir(parents=True, exist_ok=True)
            fill_workbook(t, spec, reg, target)
            paths.append(target)
        return paths

    def assessments(workspace: Workspace, round_id: str, templates: list[Path]) -> list[Path]:
        t = templates[0]
        spec = _spec(workspace, t)
        selfr = {k: r["value"] for k, r in workspace.ledger.ratings(round_id, "self").items()}
        target = out / round_id / t.name
        fill_workbook(t, spec, reg, target, unit_ratings=unit_ratings_for(reg, round_id, selfr))
        return [target]

    for r in sorted(x.id for x in reg.rounds):
        if r == MEETING_BEFORE_ROUND:
            hold_meeting(workspace)
        for rep in run_round(workspace, r, returns, assessments):
            print(f"{rep.status:9} {rep.file} ({len(rep.errors)} errors, "
                  f"{len(rep.warnings)} warnings)")


def _spec(workspace: Workspace, path: Path) -> WorkbookSpec:
    """The spec a template we just issued was recorded with."""
    spec = workspace.ledger.template(_tid(path))
    if spec is None:
        raise LookupError(f"{path.name} was not issued in this workspace")
    return spec


def _tid(path: Path) -> str:
    from ..validation.checks import template_id_of
    from ..validation.read import BookValues

    return template_id_of(BookValues.from_path(path)) or ""


if __name__ == "__main__":
    import sys
    import tempfile

    target = Path(sys.argv[1]) if len(sys.argv) > 1 else SAMPLE_RETURNS
    for old in (d for d in target.glob("*") if d.is_dir()):  # keeps __init__.py
        shutil.rmtree(old)
    make_samples(target, Path(tempfile.mkdtemp()) / "ws")
