"""The command line: a thin layer over the library.

Each command calls one library function. A DeliverypackError becomes `Error: ...` and
exit 1 (2 for a usage error); a traceback is shown only with --debug.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from typer.core import TyperGroup

from .foundation.errors import DeliverypackError, UsageError

if TYPE_CHECKING:
    from .service.engine import Engine

# `--template` took a foreign template's name, a .pptx or a .docx depending on the command;
# each command now names what it takes, and the old spelling is refused with the new name.
RENAMED_TEMPLATE = {"templates": "--foreign", "validate": "--foreign", "ingest": "--foreign",
                    "export-master": "--foreign", "deck": "--slide-template",
                    "minutes": "--word-template"}


class _Commands(TyperGroup):
    """The top-level group: refuses options that were renamed, naming their new spelling."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:  # ctx: click's Context
        if any(a == "--template" or a.startswith("--template=") for a in args):
            command = next((a for a in args if not a.startswith("-")), "")
            new = RENAMED_TEMPLATE.get(command,
                                       "--foreign, --slide-template or --word-template")
            err.print(f"Error: --template is no more: use {new} (it says what it takes)",
                      highlight=False)
            raise typer.Exit(2)
        return super().parse_args(ctx, args)


app = typer.Typer(add_completion=False, no_args_is_help=True, rich_markup_mode=None,
                  cls=_Commands,
                  help="deliverypack: returns, ledger and papers for a delivery unit.")
console = Console()
err = Console(stderr=True)
STATE: dict[str, Any] = {"debug": False}

WorkspaceOpt = Annotated[Path, typer.Option("-w", "--workspace", help="Workspace folder.")]
RoundOpt = Annotated[str | None, typer.Option("--round", "-r", help="Round id, YYYY-MM.")]


def _version(show: bool) -> None:
    if show:
        from importlib.metadata import version

        console.print(f"deliverypack {version('deliverypack')}", highlight=False)
        raise typer.Exit()


@app.callback()
def _main(debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks.")] = False,
          _show_version: Annotated[bool, typer.Option(
              "--version", is_eager=True, callback=_version,
              help="Print the version and exit.")] = False):
    STATE["debug"] = debug


def _workspace(path: Path, write: bool = False):
    """The workspace; for a command that writes, its ledger must pass the quick check."""
    from .ledger.workspace import Workspace

    workspace = Workspace.open(path)
    STATE["ledger"] = workspace.ledger_path
    if write:
        workspace.writable_ledger()
    return workspace


def _fail(exc: Exception) -> NoReturn:
    if STATE["debug"]:
        raise exc
    err.print(f"[bold red]Error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
    raise typer.Exit(2 if isinstance(exc, UsageError) else 1)


FAULTS = (sqlite3.Error, OSError, UnicodeDecodeError)


def fault_line(exc: BaseException) -> str | None:
    """`<first cause> (<path>)` for a fault of the machine (SQLite, the disk, permissions):
    the first error in the chain is the cause; what failed after it (a rollback, a
    commit) is not. None for anything else."""
    chain: list[BaseException] = []
    e: BaseException | None = exc
    while e is not None and not any(e is c for c in chain):
        chain.append(e)
        e = e.__cause__ or e.__context__
    faults = [c for c in chain if isinstance(c, FAULTS)]
    if not faults:
        return None
    first = faults[-1]
    ledger = STATE.get("ledger") or "ledger.sqlite"
    if isinstance(first, OSError) and not isinstance(first, DeliverypackError):
        path = first.filename or ledger
        return f"{first.strerror or first} ({path})"
    if isinstance(first, UnicodeDecodeError):
        return f"the ledger holds text that cannot be read: it is damaged ({ledger})"
    return f"{first} ({ledger})"


def _fault(exc: BaseException) -> None:
    """End a command on a machine fault with one line and exit 1."""
    if STATE["debug"]:
        raise exc
    err.print(f"[bold red]Error:[/] {escape(fault_line(exc) or str(exc))}", highlight=False,
              soft_wrap=True)
    raise typer.Exit(1)


def _where(label: str, path: Path) -> None:
    console.print(f"  {label:<22} {path}", highlight=False, soft_wrap=True)


@app.command()
def init(directory: Path, sample: Annotated[bool, typer.Option(
        "--sample", help="Fill the register with the sample programme.")] = False):
    """Create a workspace (settings, register.xlsx and folders)."""
    from .ledger.workspace import init_workspace
    from .sample.programme import sample_workspace

    try:
        workspace = sample_workspace(directory) if sample else init_workspace(directory)
    except DeliverypackError as exc:
        _fail(exc)
    console.print(f"Workspace created at {workspace.root}", highlight=False)
    _where("register", workspace.register_path)


@app.command()
def templates(round: RoundOpt = None, folder: WorkspaceOpt = Path("."),
              template: ForeignOpt = None):
    """Write a pre-filled return for every department to outbox/ROUND/."""
    from .templates.issue import issue_organisation_returns, issue_returns

    if template:
        from .returns.foreign import prefill_all
        try:
            paths = prefill_all(_workspace(folder, write=True), template, _required_round(round))
        except DeliverypackError as exc:
            _fail(exc)
        for p in paths:
            _where(p.stem, p)
        return
    try:
        workspace = _workspace(folder, write=True)
        rid = workspace.round_or_latest(round) if round else _required_round(round)
        paths = issue_returns(workspace, rid)
        orgs = issue_organisation_returns(workspace, rid)
    except DeliverypackError as exc:
        _fail(exc)
    console.print(f"{len(paths)} return template(s) for round {rid}:")
    for p in paths:
        _where(p.stem, p)
    if orgs:
        console.print(f"{len(orgs)} organisation return(s) in {orgs[0].parent}")


def _required_round(round_id: str | None) -> str:
    if not round_id:
        raise UsageError("say which round: --round YYYY-MM")
    return round_id


@app.command()
def assessment(round: RoundOpt = None, folder: WorkspaceOpt = Path(".")):
    """Write the unit's assessment workbook for a six-monthly round."""
    from .templates.issue import issue_assessment

    try:
        workspace = _workspace(folder, write=True)
        rid = workspace.round_or_latest(_required_round(round))
        path = issue_assessment(workspace, rid)
    except DeliverypackError as exc:
        _fail(exc)
    _where("assessment workbook", path)


def _expand(paths: list[Path]) -> list[Path]:
    from .returns.folder import round_files

    out = []
    for p in paths:
        if p.is_dir():
            files, skipped = round_files(p)
            out += files
            for line in skipped:
                err.print(f"Skipped {line}", highlight=False)
        elif not p.exists():
            raise typer.BadParameter(f"{p}: no such file or folder")
        else:
            out.append(p)
    return out


def _print_reports(reports, as_json: bool) -> None:
    if as_json:
        sys.stdout.write(json.dumps([r.to_json() for r in reports], indent=2) + "\n")
        return
    for r in reports:
        colour = "green" if r.valid else "red"
        note = " (already received: no change)" if r.duplicate else ""
        if r.superseded:
            note = " (supersedes the earlier return)"
        console.print(f"[{colour}]{r.status.upper()}[/] "
                      f"{escape(f'{r.file} {r.department} {r.round}')}{note}",
                      highlight=False)
        if r.issues:
            t = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
            for h in ("severity", "code", "sheet", "cell", "problem"):
                t.add_column(h, overflow="fold")
            for i in r.issues:  # text from a return is never console markup
                t.add_row(*(escape(x) for x in (i.severity, i.code, i.sheet, i.cell,
                                                 i.message)))
            console.print(t)
        if r.feedback:
            _where("feedback workbook", r.feedback)


ForeignOpt = Annotated[str | None, typer.Option(
    "--foreign", help="A registered foreign template (deliverypack template add).")]


@app.command()
def validate(paths: list[Path], folder: WorkspaceOpt = Path("."),
             as_json: Annotated[bool, typer.Option("--json", help="JSON output.")] = False,
             template: ForeignOpt = None, round: RoundOpt = None):
    """Check returns without keeping them."""
    from .returns.ingest import validate_files

    reports: list[Any] = []
    try:
        workspace = _workspace(folder)  # each file read in a worker: a crash costs that file
        validate_files(workspace, _expand(paths), template=template, round_id=round,
                       progress=reports.append)
    except DeliverypackError as exc:
        _print_reports(reports, as_json)  # with --json, the files done (`[]` for none)
        _fail(exc)
    except FAULTS as exc:
        _print_reports(reports, as_json)  # the files done, whole
        _fault(exc)
    _print_reports(reports, as_json)
    raise typer.Exit(int(not all(r.valid for r in reports)))


@app.command()
def ingest(paths: list[Path], folder: WorkspaceOpt = Path("."),
           as_json: Annotated[bool, typer.Option("--json", help="JSON output.")] = False,
           received: Annotated[str | None, typer.Option(
               help="When the files were received (YYYY-MM-DD), if not now.")] = None,
           jobs: Annotated[int, typer.Option(
               "--jobs", "-j", help="Worker processes (default: one per core; one process "
               "for fewer than 200 files, where starting workers costs more than it "
               "saves).")] = 0,
           template: ForeignOpt = None, round: RoundOpt = None):
    """Check returns and keep the accepted ones in the ledger."""
    import os

    from .returns.ingest import ingest_files

    try:
        workspace = _workspace(folder, write=True)
        when = dt.datetime.fromisoformat(received) if received else None
    except FAULTS as exc:  # a damaged ledger, a full disk: with --json, `[]` (no file done)
        _print_reports([], as_json)
        _fault(exc)
    except ValueError:
        _fail(UsageError(f"--received: expected a date YYYY-MM-DD, found {received!r}"))
    except DeliverypackError as exc:
        _print_reports([], as_json)
        _fail(exc)
    files = _expand(paths)
    reports = []
    jobs = jobs or ((os.cpu_count() or 1) if len(files) >= SMALL_BATCH else 1)
    try:
        with Progress("[progress.description]{task.description}", BarColumn(),
                      MofNCompleteColumn(), TextColumn("{task.fields[rate]}"),
                      TimeRemainingColumn(), console=err,
                      disable=as_json or len(files) < 5) as bar:
            task = bar.add_task("ingesting", total=len(files), rate="")

            def tick(r) -> None:
                reports.append(r)
                speed = bar.tasks[0].speed
                bar.update(task, advance=1, rate=f"{speed:,.0f} files/s" if speed else "")
            ingest_files(workspace, files, received=when, jobs=jobs, progress=tick,
                         template=template, round_id=round, isolate=True)
    except KeyboardInterrupt:
        err.print(f"Interrupted: {len(reports)} file(s) recorded whole; the ledger is "
                  "consistent. Run the same command again to carry on.")
        raise typer.Exit(130) from None
    except DeliverypackError as exc:
        _print_reports(reports, as_json)
        _fail(exc)
    except FAULTS as exc:  # the files the ledger holds (or that were refused unread)
        _print_reports([r for r in reports if r.kept or not r.sha256], as_json)
        _fault(exc)
    _print_reports(reports, as_json)
    raise typer.Exit(int(not all(r.valid for r in reports)))


# below this many files, one process ingests faster than workers can start (make bench:
# 100 department returns take 0.55 s on one process, 0.74 s on two)
SMALL_BATCH = 200


@app.command()
def status(round: RoundOpt = None, folder: WorkspaceOpt = Path("."),
           as_json: Annotated[bool, typer.Option("--json", help="JSON output.")] = False):
    """Who has returned, who is late, who was rejected and why."""
    from .consolidation.views import returns_status

    try:
        workspace = _workspace(folder)
        rounds = [workspace.round_or_latest(round)] if round else sorted(r.id for r in
                                                                  workspace.register.rounds)
        table = {r: returns_status(workspace.register, workspace.ledger, r) for r in rounds}
    except DeliverypackError as exc:
        _fail(exc)
    if as_json:
        out: dict = {r: [s.__dict__ for s in v] for r, v in table.items()}
        out["organisations"] = {r: _org_rows(workspace, r) for r in table}
        sys.stdout.write(json.dumps(out, indent=2) + "\n")
        return
    for r, rows in table.items():
        t = Table(title=f"Round {r}", title_justify="left")
        for h in ("department", "status", "late", "attempts", "file", "first problem"):
            t.add_column(h, overflow="fold")
        for s in rows:
            colour = {"accepted": "green", "rejected": "red"}.get(s.status, "yellow")
            t.add_row(escape(s.department), f"[{colour}]{s.status}[/]",
                      "late" if s.late else "", str(s.attempts), escape(s.file or ""),
                      escape(s.problems[0]) if s.problems else "")
        console.print(t)
        _round_log(workspace, r)
        _org_status(workspace, r)


PublishOpt = Annotated[bool, typer.Option(
    "--publish", help="This is the paper as published: close the round, so no return for "
    "it is kept unless the unit reopens it (deliverypack round reopen).")]


def _published(workspace, publish: bool, round_id: str, what: str, path: Path) -> None:
    """Close the round a published paper was made from."""
    from .ledger.rounds import close_round

    if publish and close_round(workspace.ledger, round_id, f"{what} published ({path.name})"):
        console.print(f"Round {round_id} is now closed: its {what} is published.")


def _org_rows(workspace, round_id: str) -> dict:
    """status --json: each organisation's return, and each measure's coverage."""
    from .consolidation.coverage import collection_json

    return collection_json(workspace.register, workspace.ledger, round_id)


def _org_status(workspace, round_id: str) -> None:
    """Organisations: a coverage line per measure and month, then who is to chase."""
    from .consolidation.coverage import coverage_lines, organisation_status

    for line in coverage_lines(workspace.register, workspace.ledger, round_id):
        console.print(f"  {line}", highlight=False)
    chase = [o for o in organisation_status(workspace.register, workspace.ledger, round_id)
             if o.status != "accepted" or o.late]
    if chase:
        t = Table(title=f"Organisations to chase, round {round_id}", title_justify="left")
        for h in ("organisation", "kind", "status", "late", "file", "first problem"):
            t.add_column(h, overflow="fold")
        for o in chase:
            t.add_row(o.organisation, o.kind, o.status, "late" if o.late else "", o.file,
                      o.problems[0] if o.problems else "")
        console.print(t)


def _round_log(workspace, round_id: str) -> None:
    """The round's closures and reopenings, with their reasons, under its returns."""
    from .ledger.rounds import round_history

    for e in round_history(workspace.ledger, round_id):
        console.print(f"  Round {round_id} {e.text()}", highlight=False)


@app.command()
def master(round: RoundOpt = None, folder: WorkspaceOpt = Path("."),
           output: Annotated[Path | None, typer.Option("-o", "--output",
                                                       help="Where to write it.")] = None,
           publish: PublishOpt = False):
    """Write the master assessment workbook (outputs/master-ROUND.xlsx) from the ledger."""
    from .outputs.master import build_master

    try:
        workspace = _workspace(folder)
        path = build_master(workspace, workspace.round_or_latest(round), output)
        _published(workspace, publish, workspace.round_or_latest(round), "master", path)
    except DeliverypackError as exc:
        _fail(exc)
    _where("master workbook", path)


@app.command()
def deck(round: RoundOpt = None, folder: WorkspaceOpt = Path("."),
         priority: Annotated[list[str] | None, typer.Option(
             "--priority", "-p", help="Only these priorities (repeat).")] = None,
         template: Annotated[Path | None, typer.Option(
             "--slide-template", help="A branded .pptx with layouts named Title Slide, "
             "Title and Content, Two Content, Title Only.")] = None,
         output: Annotated[Path | None, typer.Option("-o", "--output")] = None,
         publish: PublishOpt = False):
    """Write the stocktake deck (outputs/stocktake-ROUND.pptx) from the ledger."""
    from .outputs.deck import build_deck

    try:
        workspace = _workspace(folder)
        path = build_deck(workspace, workspace.round_or_latest(round), priorities=priority,
                          template=template, target=output)
        _published(workspace, publish, workspace.round_or_latest(round), "stocktake deck", path)
    except DeliverypackError as exc:
        _fail(exc)
    _where("stocktake deck", path)


template_app = typer.Typer(help="Foreign templates read through a datamap.",
                            no_args_is_help=True)
app.add_typer(template_app, name="template")


@template_app.command("add")
def template_add(name: str, blank: Annotated[Path, typer.Option(help="The blank template.")],
                 datamap: Annotated[Path, typer.Option(help="Its datamap (CSV).")],
                 folder: WorkspaceOpt = Path(".")):
    """Register a department's own template and its datamap."""
    from .returns.foreign import add_template

    try:
        tpl = add_template(_workspace(folder, write=True), name, blank, datamap)
    except DeliverypackError as exc:
        _fail(exc)
    console.print(f"Template {tpl.name}: {len(tpl.entries)} mapped cells on "
                  f"{len({e.sheet for e in tpl.entries})} sheets", highlight=False)


round_app = typer.Typer(help="A round's lifecycle: open -> closed (its papers published) "
                        "-> reopened by the unit, with a reason.", no_args_is_help=True)
app.add_typer(round_app, name="round")


@round_app.command("close")
def round_close(round_id: Annotated[str, typer.Argument(metavar="ROUND")],
                reason: Annotated[str, typer.Option(help="Why, for the returns log.")]
                = "closed by the unit", folder: WorkspaceOpt = Path(".")):
    """Close a round: returns for it are refused until the unit reopens it."""
    from .ledger.rounds import close_round

    try:
        workspace = _workspace(folder)
        rid = workspace.round_or_latest(round_id)
        done = close_round(workspace.ledger, rid, reason)
    except DeliverypackError as exc:
        _fail(exc)
    console.print(f"Round {rid} {'is now closed' if done else 'was already closed'}.")


@round_app.command("reopen")
def round_reopen(round_id: Annotated[str, typer.Argument(metavar="ROUND")],
                 reason: Annotated[str, typer.Option(help="Why it is reopened (kept in the "
                                                          "ledger, shown in the returns log).")],
                 folder: WorkspaceOpt = Path(".")):
    """Reopen a closed round, saying why."""
    from .ledger.rounds import reopen_round

    try:
        workspace = _workspace(folder)
        rid = workspace.round_or_latest(round_id)
        reopen_round(workspace.ledger, rid, reason)
    except DeliverypackError as exc:
        _fail(exc)
    console.print(f"Round {rid} is open again: {reason}")


@app.command("export-master")
def export_master_cmd(template: Annotated[str, typer.Option(
                          "--foreign", help="The foreign template.")],
                      folder: WorkspaceOpt = Path("."),
                      output: Annotated[Path | None, typer.Option("-o", "--output")] = None):
    """Write a datamaps-style wide master: keys as rows, one column per return."""
    from .returns.foreign import export_master

    try:
        path = export_master(_workspace(folder), template, output)
    except DeliverypackError as exc:
        _fail(exc)
    _where("master", path)


DateOpt = Annotated[str | None, typer.Option("--date", help="Meeting date, YYYY-MM-DD.")]


def _date(text: str | None) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"--date: expected YYYY-MM-DD, found {text!r}") from None


@app.command("meeting-record")
def meeting_record(taskforce: str, folder: WorkspaceOpt = Path("."), date: DateOpt = None,
                   output: Annotated[Path | None, typer.Option("-o", "--output")] = None):
    """Write a pre-filled meeting record workbook for a task force's secretariat."""
    from .templates.taskforce import issue_meeting_record

    try:
        path = issue_meeting_record(_workspace(folder), taskforce, _date(date), output)
    except DeliverypackError as exc:
        _fail(exc)
    _where("meeting record", path)


@app.command()
def minutes(record: Path, folder: WorkspaceOpt = Path("."),
            output: Annotated[Path | None, typer.Option("-o", "--output")] = None,
            template: Annotated[Path | None, typer.Option(
                "--word-template", help="Your own Word template.")] = None):
    """Check a filled meeting record, store the meeting and its actions, write the minutes."""
    from .outputs.minutes import RecordRejected, write_minutes

    try:
        path, _ = write_minutes(_workspace(folder, write=True), record, target=output,
                                word_template=template)
    except RecordRejected as exc:
        _print_reports([exc.report], False)
        _fail(exc)
    except DeliverypackError as exc:
        _fail(exc)
    _where("minutes", path)


@app.command()
def pack(taskforce: str, folder: WorkspaceOpt = Path("."), date: DateOpt = None,
         output: Annotated[Path | None, typer.Option("-o", "--output")] = None):
    """Write the agenda pack for a task force's next meeting."""
    from .outputs.agenda_pack import write_pack

    try:
        workspace = _workspace(folder)
        if taskforce not in {t.id for t in workspace.register.taskforces}:
            raise UsageError(f"unknown task force {taskforce!r}")
        path = write_pack(workspace, taskforce, _date(date), target=output)
    except DeliverypackError as exc:
        _fail(exc)
    _where("agenda pack", path)


@app.command()
def report(round: RoundOpt = None, folder: WorkspaceOpt = Path("."),
           department: Annotated[list[str] | None, typer.Option(
               "--department", "-d", help="Only these departments (repeat).")] = None,
           output: Annotated[Path | None, typer.Option("-o", "--output")] = None):
    """Write the six-monthly delivery report for each department (or those named)."""
    from .outputs.delivery_report import write_report

    try:
        workspace = _workspace(folder)
        rid = workspace.round_or_latest(round)
        depts = department or [d.id for d in workspace.register.departments
                               if workspace.register.priorities_of(d.id)]
        if output and len(depts) > 1:
            raise UsageError("-o needs a single --department")
        paths = [write_report(workspace, rid, d, target=output) for d in depts]
    except DeliverypackError as exc:
        _fail(exc)
    for p in paths:
        _where("delivery report", p)


@app.command()
def check(folder: WorkspaceOpt = Path(".")):
    """Check the ledger: SQLite's integrity check, and every record against archive/."""
    from .returns.recovery import check as check_ledger

    try:
        res = check_ledger(_workspace(folder))
    except DeliverypackError as exc:
        _fail(exc)
    for line in res.integrity:
        err.print(f"ledger damaged: {escape(line)}", highlight=False, soft_wrap=True)
    for line in res.problems:
        err.print(escape(line), highlight=False, soft_wrap=True)
    if res.ok:
        console.print(f"Ledger sound: {res.submissions} submission(s), {res.archived} "
                      "archived file(s), each with its record.", highlight=False)
    for line in res.left:
        console.print(escape(line), highlight=False, soft_wrap=True)
    raise typer.Exit(int(not res.ok))


@app.command()
def backup(dest: Annotated[Path | None, typer.Argument(
        help="File or folder for the copy (default: backups/ in the workspace).")] = None,
           folder: WorkspaceOpt = Path(".")):
    """Write a consistent copy of the ledger (safe while an ingest runs)."""
    from .returns.recovery import backup as backup_ledger

    try:
        path = backup_ledger(_workspace(folder), dest)
    except DeliverypackError as exc:
        _fail(exc)
    _where("ledger backup", path)


@app.command()
def rebuild(folder: WorkspaceOpt = Path("."),
            force: Annotated[bool, typer.Option(
                "--force", help="Replace an existing ledger (it is kept beside).")] = False):
    """Re-create the ledger from archive/ alone (each file with its journal record)."""
    from .returns.recovery import rebuild as rebuild_ledger

    try:
        workspace = _workspace(folder)
        path, n, aside = rebuild_ledger(workspace, force=force)
    except DeliverypackError as exc:
        _fail(exc)
    console.print(f"Ledger rebuilt from {n} archived file(s).", highlight=False)
    _where("ledger", path)
    if aside:
        _where("previous ledger", aside)


@app.command()
def demo(directory: Annotated[Path, typer.Argument(help="Folder for the demo workspace.")]
         = Path("demo-workspace")):
    """Run the whole flow on the sample programme and print where every output is."""
    from .demo import run_demo

    try:
        run_demo(directory, console)
    except DeliverypackError as exc:
        _fail(exc)


# ------------------------------------------------------------------ the collection service
def _engine(folder: Path):
    try:
        import uvicorn  # noqa: F401  (the service's extra, checked here)

        from .service.engine import Engine
    except ImportError:  # the optional extra is not installed
        raise UsageError("the collection service needs its extra: "
                         "pip install 'deliverypack[service]'") from None
    return Engine(folder)


Done = TypeVar("Done")


def _on_service(folder: Path, operation: Callable[[Engine], Done]) -> Done:
    """Run one operation of the collection service on the workspace (its engine closed
    after, whatever happens); a DeliverypackError becomes the one-line error."""
    try:
        engine = _engine(folder)
        try:
            return operation(engine)
        finally:
            engine.close()
    except DeliverypackError as exc:
        _fail(exc)


@app.command()
def serve(folder: WorkspaceOpt = Path("."),
          host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
          port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000):
    """Run the collection service (departments upload, the unit follows the round)."""
    try:
        _engine(folder).close()  # fail here, plainly, if the workspace is not one
        import uvicorn

        from .service.app import create_app
        application = create_app(folder)
    except DeliverypackError as exc:
        _fail(exc)
    console.print(f"Collection service for {folder.resolve()} on http://{host}:{port}/",
                  highlight=False)
    uvicorn.run(application, host=host, port=port, log_level="warning")


users_app = typer.Typer(help="Accounts on the collection service.", no_args_is_help=True)
app.add_typer(users_app, name="users")


@users_app.command("add")
def users_add(email: str, name: Annotated[str, typer.Option(help="Full name.")],
              role: Annotated[str, typer.Option(
                  help="submitter, approver (a department's), unit or admin.")],
              department: Annotated[str | None, typer.Option(
                  help="The department (for a submitter or approver).")] = None,
              password_stdin: Annotated[bool, typer.Option(
                  "--password-stdin", help="Read the password from standard input instead "
                  "of making an invitation.")] = False,
              folder: WorkspaceOpt = Path(".")):
    """Create an account and print its single-use invitation link."""
    from .service.ops import INVITE_HOURS, add_user

    password = sys.stdin.readline().rstrip("\n") if password_stdin else None
    new = _on_service(folder, lambda engine: add_user(engine, email, name, department, role,
                                                      password=password))
    console.print(f"Account {email} ({role}) created.", highlight=False)
    if new.link:
        console.print(f"Invitation (works once, expires in {INVITE_HOURS} hours"
                      f"{'; also e-mailed' if new.mailed else ''}):", highlight=False)
        console.print(new.link, highlight=False, soft_wrap=True)


@users_app.command("deactivate")
def users_deactivate(email: str, folder: WorkspaceOpt = Path(".")):
    """Deactivate an account: it cannot sign in and its sessions end now (audited)."""
    from .service.ops import deactivate_user

    ended = _on_service(folder, lambda engine: deactivate_user(engine, email))
    console.print(f"Account {email} deactivated; {ended} session(s) ended.", highlight=False)


token_app = typer.Typer(help="Tokens for the JSON API.", no_args_is_help=True)
app.add_typer(token_app, name="token")


@token_app.command("create")
def token_create(department: Annotated[str | None, typer.Option(
                     help="The department whose returns the token may send.")] = None,
                 unit: Annotated[bool, typer.Option(
                     "--unit", help="A unit token: every department's status.")] = False,
                 folder: WorkspaceOpt = Path(".")):
    """Print a new bearer token for the JSON API."""
    from .service.ops import create_token

    if bool(department) == unit:
        _fail(UsageError("say one of --department ID or --unit"))
    token = _on_service(folder, lambda engine: create_token(engine, department))
    sys.stdout.write(token + "\n")


@token_app.command("revoke")
def token_revoke(folder: WorkspaceOpt = Path(".")):
    """Revoke the API token read from standard input (it stops working at once)."""
    from .service.ops import revoke_token

    token = sys.stdin.readline().strip()
    if not token:
        _fail(UsageError("expected the token on standard input"))
    _on_service(folder, lambda engine: revoke_token(engine, token))
    console.print("API token revoked.", highlight=False)


@app.command()
def remind(round: RoundOpt = None, folder: WorkspaceOpt = Path(".")):
    """E-mail departments whose return is due soon or overdue (each reminder once)."""
    from .service.ops import remind as send_reminders

    sent = _on_service(folder, lambda engine: send_reminders(engine, round_id=round))
    for r in sent:
        what = f"sent to {', '.join(r.recipients)}" if r.sent else \
            "recorded (mail not configured, or the department has no accounts)"
        console.print(f"{r.round} {r.department}: {r.kind} reminder {what}", highlight=False)
    if not sent:
        console.print("No reminders due.")


def main() -> None:
    try:
        app()
    except DeliverypackError as exc:  # anything a command did not catch itself
        err.print(f"Error: {escape(str(exc))}", highlight=False, soft_wrap=True)
        sys.exit(1)
    except FAULTS as exc:  # a read-only workspace, a full disk, a locked or damaged ledger
        if STATE["debug"]:
            raise
        err.print(f"Error: {escape(fault_line(exc) or str(exc))}", highlight=False,
                  soft_wrap=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
