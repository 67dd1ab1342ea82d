"""`deliverypack demo`: the whole flow on the sample programme, printing where things are."""

from __future__ import annotations

import shutil
from pathlib import Path

from rich.console import Console

from .consolidation.views import returns_status
from .sample.programme import sample_workspace
from .sample.rounds import MEETING_BEFORE_ROUND, MEETINGS, from_samples, hold_meeting, run_round


def run_demo(directory: Path, console: Console) -> dict[str, Path]:
    directory = Path(directory)
    if directory.exists():
        shutil.rmtree(directory)
    workspace = sample_workspace(directory, demo=True)
    console.print(f"Demo workspace: {workspace.root}", highlight=False)

    outputs: dict[str, Path] = {"register": workspace.register_path,
                                "ledger": workspace.ledger_path}
    for rnd in sorted(r.id for r in workspace.register.rounds):
        if rnd == MEETING_BEFORE_ROUND:
            outputs.update(hold_meeting(workspace))
            console.print(f"Task force EOL met on {MEETINGS[0]:%d %b %Y}: minutes written, "
                          "actions allocated", highlight=False)
        reports = run_round(workspace, rnd, from_samples("return"), from_samples("assessment"))
        ok = sum(r.valid for r in reports)
        orgs = sum(r.valid for r in reports if r.kind == "org_return")
        console.print(f"Round {rnd}: templates in {workspace.outbox(rnd)}; {ok} of {len(reports)} "
                      f"files accepted ({orgs} organisations' own)", highlight=False,
                      soft_wrap=True)
        for r in reports:
            if not r.valid:
                console.print(f"  rejected {r.file}: {len(r.errors)} problem(s), e.g. "
                              f"{r.errors[0].text()}", highlight=False, soft_wrap=True)
                if r.feedback:
                    outputs[f"feedback {r.file}"] = r.feedback
    last = max(r.id for r in workspace.register.rounds)
    for s in returns_status(workspace.register, workspace.ledger, last):
        if s.status != "accepted" or s.late:
            console.print(f"  chasing {last}: {s.department} {s.status}"
                          f"{' (late)' if s.late else ''}", highlight=False)
    outputs.update(_papers(workspace, last))
    console.print("\nWhere everything is:")
    for label, path in outputs.items():
        console.print(f"  {label:<34} {path}", highlight=False, soft_wrap=True)
    return outputs


def _papers(workspace, round_id: str) -> dict[str, Path]:
    """The papers built from the ledger for the latest round."""
    from .outputs.agenda_pack import write_pack
    from .outputs.deck import build_deck
    from .outputs.delivery_report import write_report
    from .outputs.master import build_master

    return {"master workbook": build_master(workspace, round_id),
            "stocktake deck": build_deck(workspace, round_id),
            "delivery report (Home Office)": write_report(workspace, round_id, "HO"),
            # the schools return the London Challenge measure themselves: the annex by school
            "delivery report (DfES, by school)": write_report(workspace, round_id, "DfES"),
            "agenda pack (EOL, next meeting)": write_pack(workspace, "EOL", MEETINGS[1])}
