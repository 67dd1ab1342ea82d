"""Documentation generated from the code, so it cannot drift: the validation codes and the
rulebook (docs/rulebook.md)."""

from __future__ import annotations

import re
from pathlib import Path

from .validation.issues import CATALOGUE

BEGIN, END = "<!-- codes:begin -->", "<!-- codes:end -->"
BENCH_BEGIN, BENCH_END = "<!-- bench:begin -->", "<!-- bench:end -->"


def codes_table() -> str:
    lines = ["| code | severity | what it means |", "|---|---|---|"]
    for t in CATALOGUE.values():
        lines.append(f"| `{t.code}` | {t.severity} | {t.description} |")
    return "\n".join(lines)


RULEBOOK_INTRO = """# The rulebook

What each input cell of the templates may hold, generated from `validation/rules.py` by
`make docs` (a test fails if this page is stale). One declaration per cell gives the
engine's reading, the template's data validation (stop style: a value breaking a hard
limit is refused as it is typed), its conditional formatting and its Checks panel; a
plausible range is a warning (an unusual but true figure is kept). Measures' bounds and
plausible ranges come from the register, so the rows below are the sample programme's
(`make demo`); a percentage's bounds are in percentage points.
"""


def rulebook_page() -> str:
    """docs/rulebook.md: every kind of workbook the sample programme issues (returns, the
    unit's assessment, a meeting record), each input cell's rule once per place."""
    import datetime as dt
    import tempfile

    from .sample.programme import sample_workspace
    from .templates.build import template_inputs
    from .templates.issue import issue_assessment, issue_returns
    from .templates.taskforce import issue_meeting_record
    from .validation.checks import template_id_of
    from .validation.read import BookValues
    from .validation.rules import rulebook_markdown

    with tempfile.TemporaryDirectory() as tmp:
        workspace = sample_workspace(Path(tmp) / "ws")
        try:
            issue_returns(workspace, "2002-12")
            paths = sorted(workspace.outbox("2002-12").glob("*.xlsx"))
            paths += [issue_assessment(workspace, "2002-12"),
                      issue_meeting_record(workspace, "EOL", dt.date(2003, 9, 15))]
            cells = []
            for path in paths:
                tid = template_id_of(BookValues.from_path(path))
                spec = workspace.ledger.template(tid) if tid else None
                if spec is None:  # the sample programme issued it: never
                    raise RuntimeError(f"{path.name}: no spec in the ledger")
                what = {"return": "Return", "assessment": "Unit assessment",
                        "meeting": "Meeting record"}.get(spec.kind, spec.kind)
                cells += [(f"{what}: {c.sheet}, {c.table}", c) for c in template_inputs(spec)]
        finally:
            workspace.ledger.close()
    rows = _named(cells)
    return RULEBOOK_INTRO + "\n" + rulebook_markdown([r for _, r in rows],
                                                     [w for w, _ in rows]) + "\n"


def _named(cells: list) -> list:
    """(where, rule) once per rule of a column, the rule labelled by its column; where one
    column holds different rules by row (the self-assessment), by the rows it covers."""
    from dataclasses import replace

    groups: dict[tuple, list] = {}
    for where, c in cells:
        groups.setdefault((where, c.header, c.rule), []).append(c)
    rules_of: dict[tuple, set] = {}
    for where, header, rule in groups:
        rules_of.setdefault((where, header), set()).add(rule)
    out = []
    for (where, header, rule), group in groups.items():
        label = rule.label
        rows = list(dict.fromkeys(c.label.split(": ", 1)[-1] for c in group))
        if len(rules_of[(where, header)]) > 1 and label == header and rows != [header]:
            label = f"{header}: " + (", ".join(rows) if len(rows) <= 4 else
                                     f"{len(rows)} rows")
        out.append((where, replace(rule, label=label)))
    return out


def update_rulebook(path: Path) -> None:
    from .foundation.files import atomic_path

    text = rulebook_page()
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def bench_table(results: dict) -> str:
    """The README's figures, from bench/results.json (never typed by hand)."""
    jobs = results["machine"]["cores"]
    lines = [f"Measured on {results['date']}, {jobs} cores, Python "
             f"{results['machine']['python']} (`bench/results.json`). The floor is the time "
             f"to open each file and read every cell with python-calamine, on one process "
             f"and on {jobs}; each ingest figure is set against the floor on as many "
             f"processes.", "",
             f"| N | return | floor, 1 process (s) | 1 process (returns/s) | x floor | "
             f"{jobs} processes (returns/s) | x floor on {jobs} | peak memory (MB) |",
             "|---|---|---|---|---|---|---|---|"]
    for r in results["sizes"]:
        for kind, label in (("dept", "department"), ("org", "organisation")):
            lines.append(
                f"| {r['n']:,} | {label} | {r[f'{kind}_floor_s']:.2f} | "
                f"{r[f'{kind}_ingest_j1_rate']:.0f} | {r[f'{kind}_ratio_to_floor']:.1f} | "
                f"{r[f'{kind}_ingest_j{jobs}_rate']:.0f} | "
                f"{r.get(f'{kind}_ratio_j{jobs}', float('nan')):.1f} | "
                f"{r[f'{kind}_ingest_j{jobs}_peak_mb']:.0f} |")
    last = results["sizes"][-1]
    lines += ["", f"Outputs for N = {last['n']:,}: master {last['master_s']:.1f} s, deck "
                  f"{last['deck_s']:.1f} s, report {last['report_s']:.1f} s. Master for "
                  f"10,000 organisations x 36 periods: {results['master_10000x36_s']:.1f} s "
                  f"(peak {results['master_10000x36_peak_mb']:.0f} MB). Deck of 100 "
                  f"priorities: {results['deck_100_priorities_s']:.1f} s."]
    if "dft_200_j1_ms_per_return" in results:
        lines.append(f"The real DfT project return (25 sheets, 1,944 mapped cells), 200 "
                     f"copies: {results['dft_200_j1_ms_per_return']:.0f} ms a return on one "
                     f"process, {results[f'dft_200_j{jobs}_ms_per_return']:.0f} ms on "
                     f"{jobs} (peak {results[f'dft_200_j{jobs}_peak_mb']:.0f} MB).")
    return "\n".join(lines)


def _replace(text: str, begin: str, end: str, body: str) -> str:
    return re.sub(f"{re.escape(begin)}.*?{re.escape(end)}", lambda _: f"{begin}\n{body}\n{end}",
                  text, flags=re.S)


def update_readme(path: Path) -> None:
    import json

    text = _replace(path.read_text(encoding="utf-8"), BEGIN, END, codes_table())
    results = path.parent / "bench" / "results.json"
    if results.exists():
        text = _replace(text, BENCH_BEGIN, BENCH_END, bench_table(json.loads(
            results.read_text())))
    path.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    import sys

    # a source checkout's README (make docs runs at its top); an installed package has none
    readme = Path(sys.argv[1] if len(sys.argv) > 1 else "README.md")
    update_readme(readme)
    update_rulebook(readme.parent / "docs" / "rulebook.md")
