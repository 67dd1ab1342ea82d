"""Documentation generated from the code, so it cannot drift: the validation codes."""

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
    update_readme(Path(sys.argv[1] if len(sys.argv) > 1 else "README.md"))
