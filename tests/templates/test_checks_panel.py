"""The template checks itself: its formulas, recalculated by LibreOffice, agree with the
engine value by value and return by return (a corpus of mis-filled returns)."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from conftest import soffice, spec_of
from deliverypack.returns.ingest import validate_file
from deliverypack.sample.filler import fill_workbook, unit_ratings_for
from deliverypack.templates.build import template_inputs
from deliverypack.templates.issue import issue_assessment
from deliverypack.templates.taskforce import issue_meeting_record
from deliverypack.validation import rules
from deliverypack.validation.cells import At

pytestmark = [pytest.mark.soffice,
              pytest.mark.skipif(soffice() is None, reason="LibreOffice is not installed")]

# every code a formula in the template can raise
EXPRESSIBLE = {c.code for c in rules.value_checks(rules.cell_rule("percent", required=True,
                                                                  plausible=(1, 2)), "A1")}
EXPRESSIBLE |= {c.code for t in ("code", "date", "text", "int")
                for c in rules.value_checks(rules.cell_rule(t, allowed=["A"]), "A1")}
EXPRESSIBLE |= {r.code for r in rules.CROSS_RULES}


def recalculated(paths: list[Path], outdir: Path) -> list[Path]:
    """The workbooks as LibreOffice computes them: converted to .xlsx in one process."""
    import subprocess
    import uuid

    outdir.mkdir(parents=True, exist_ok=True)
    profile = outdir / f"lo-{uuid.uuid4().hex}"
    subprocess.run([soffice(), f"-env:UserInstallation=file://{profile}", "--headless",
                    "--norestore", "--convert-to", "xlsx", "--outdir", str(outdir),
                    *map(str, paths)], check=True, capture_output=True, timeout=540)
    out = [outdir / p.name for p in paths]
    assert all(p.exists() for p in out)
    return out


def probes(rule: rules.CellRule) -> list[object]:
    """Values an officer might type into a cell with this rule."""
    if rule.typ in ("number", "int", "percent"):
        vals: list[object] = [0, 0.5, 1, 1.4, 1.6, 2, 12.5, 98, 98.5, 100, 101, 150, -1,
                              -0.5, 1e6]
        for b in (*rule.bounds(), *rule.plausible):
            if b is not None:
                vals += [b - 1, b, b + 1] if rule.typ != "percent" else [b / 100, b]
        return vals
    if rule.typ in ("code", "rating"):
        first = rule.allowed[0]
        return [*rule.allowed[:3], first.lower(), f" {first}", "zzz"]
    if rule.typ == "date":
        return [dt.datetime(2003, 1, 31), dt.datetime(1905, 6, 25), dt.datetime(2100, 1, 1),
                dt.datetime(1980, 1, 1)]
    return ["a reason", "x" * 4001]


def engine_verdict(rule: rules.CellRule, raw: object) -> tuple[int, int]:
    out: list = []
    rules.reader(rule).full(raw, At("P", "A1"), out)
    return (int(any(i.severity == "error" for i in out)),
            int(any(i.severity == "warning" for i in out)))


def _any(conds: list[str]) -> str:
    return "IF(IFERROR(OR(" + ",".join(conds) + "),FALSE),1,0)" if conds else "0"


def _all_templates(workspace) -> list[Path]:
    paths = [workspace.outbox("2002-12") / f"{d}-2002-12.xlsx" for d in ("HO", "DH")]
    return [*paths, issue_assessment(workspace, "2002-12"),
            issue_meeting_record(workspace, "EOL", dt.date(2003, 9, 15))]


def test_template_and_engine_refuse_the_same_values(workspace, tmp_path):
    """For every rule in the templates, every probe value: the template's error and
    warning formulas and its validation formula, computed by LibreOffice, give the
    engine's verdict."""
    seen: dict[rules.CellRule, None] = {}
    for path in _all_templates(workspace):
        for cell in template_inputs(spec_of(workspace, path)):
            seen.setdefault(cell.rule)
    wb = Workbook()
    sh = wb.active
    sh.title = "P"
    cases = []
    for rule in seen:
        for raw in probes(rule):
            r = len(cases) + 1
            sh.cell(row=r, column=1, value=raw)
            checks = rules.value_checks(rule, f"A{r}")
            sh.cell(row=r, column=2, value="=" + _any(
                [c.condition for c in checks if c.severity == "error"]))
            sh.cell(row=r, column=3, value="=" + _any(
                [c.condition for c in checks if c.severity == "warning"]))
            sh.cell(row=r, column=4, value=f"=IF({rules.accepts(rule, f'A{r}')},1,0)")
            cases.append((rule, raw))
    src = tmp_path / "probes.xlsx"
    wb.save(src)
    (got,) = recalculated([src], tmp_path / "lo")
    calc = load_workbook(got, data_only=True)["P"]
    table: Counter = Counter()
    wrong = []
    for r, (rule, raw) in enumerate(cases, start=1):
        err, warn = engine_verdict(rule, raw)
        t_err, t_warn, t_ok = (calc.cell(row=r, column=c).value for c in (2, 3, 4))
        verdict = "error" if err else ("warning" if warn else "accepted")
        agree = (t_err, t_warn, t_ok) == (err, warn, 1 - err)
        table[(rule.typ, verdict, agree)] += 1
        if not agree:
            wrong.append((rule, raw, (err, warn), (t_err, t_warn, t_ok)))
    print("\nrule type x engine verdict: cases (all agree)")
    for (typ, verdict, agree), n in sorted(table.items()):
        print(f"  {typ:8} {verdict:9} {n:4} {'agree' if agree else 'DISAGREE'}")
    assert not wrong, wrong[:5]
    assert {v for (_, v, _) in table} == {"error", "warning", "accepted"}
    assert len(cases) > 200


def _panel(path: Path) -> tuple[set, int, int, str, list[str]]:
    """What the recalculated template says: problem cells with severity, the counts, the
    status, and the lines listed on the Cover."""
    wb = load_workbook(path, data_only=True)
    found = set()
    for row in wb["Checks"].iter_rows(min_row=2, values_only=True):
        m = re.match(r"^Sheet '(.*)' ([A-Z]+\d+) \(", str(row[0] or ""))
        assert m, row
        if row[1]:
            found.add((m.group(1), m.group(2), "error"))
        if row[2]:
            found.add((m.group(1), m.group(2), "warning"))
    def named(name: str):
        sheet, ref = wb.defined_names[name].attr_text.split("!")
        return wb[sheet.strip("'")][ref.replace("$", "")]
    status = named("ChecksStatus")
    lines = [status.parent.cell(row=status.row + 1 + k, column=status.column).value
             for k in range(1, 11)]
    return (found, named("ChecksErrors").value, named("ChecksWarnings").value, status.value,
            [x for x in lines if x])


def _engine(workspace, path: Path) -> tuple[set, set]:
    report, _ = validate_file(workspace, path)
    kept = {(i.sheet, i.cell, i.severity) for i in report.issues if i.code in EXPRESSIBLE}
    other = {i.code for i in report.issues if i.code not in EXPRESSIBLE}
    return kept, other


def _mutations(workspace, path: Path, filled: Path) -> list[dict[tuple[str, str], object]]:
    """Mis-fillings of one template: every rule broken (each run of cells with one rule
    takes a bad value of each verdict and an emptied cell, one per cell, so each problem
    sits at its own cell), the cross-field rules broken, and both at once."""
    from deliverypack.templates.build import _runs

    spec = spec_of(workspace, path)
    cells = template_inputs(spec)
    wb = load_workbook(filled)
    singles: dict = {}
    for run in _runs(cells):
        rule = run[0].rule
        verdicts: dict[tuple[str, ...], object] = {}
        for raw in probes(rule):  # one bad value for each thing the engine can say
            out: list = []
            rules.reader(rule).full(raw, At("P", "A1"), out)
            verdicts.setdefault(tuple(sorted(i.code for i in out)), raw)
        bad = [None] + [raw for v, raw in verdicts.items() if v]
        for cell, raw in zip(run, bad, strict=False):
            singles[(cell.sheet, f"{chr(64 + cell.col)}{cell.row}")] = raw
    cross: dict = {}
    by_label = {(c.sheet, c.label): f"{chr(64 + c.col)}{c.row}" for c in cells}
    for (sheet, label), coord in by_label.items():
        if label.startswith("This round: Quality"):  # a weak rating, no narrative
            cross[(sheet, coord)] = "R"
            cross[(sheet, by_label[(sheet, "This round: Narrative (required when any "
                                           "rating is AR or R)")])] = None
        if label.startswith("Status: ") and spec.kind == "return" and sheet not in \
                {k[0] for k in cross if k[1].startswith("E")}:  # at risk, no date
            cross[(sheet, coord)] = "At risk"
            cross[(sheet, coord.replace("D", "E", 1))] = None
        if label.startswith("Unit: Quality") and not any(v == "R" for v in cross.values()):
            cross[(sheet, coord)] = "R"
            row = coord.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
            narr = next(c for (sh, lb), c in by_label.items()
                        if lb.startswith("Unit narrative") and c.endswith(row))
            cross[(sheet, narr)] = None
    for c in cells:
        if "out-of-range" in c.cross:  # a numerator above its denominator
            den = wb[c.sheet].cell(row=c.row, column=c.col + 1).value
            if isinstance(den, int | float):
                cross[(c.sheet, f"{chr(64 + c.col)}{c.row}")] = den + 1
                break
    return [m for m in (singles, cross, {**singles, **cross}) if m]


def test_a_corpus_of_misfilled_returns_agrees_with_the_engine(workspace, tmp_path):
    """Every rule broken once, and combinations, in each kind of template: LibreOffice's
    Checks panel lists the same cells, with the same severity, as the engine raises for
    every rule a formula can express; a return whose panel says "Ready to send" is never
    refused for one of them; a clean return says "Ready to send"."""
    corpus: list[Path] = []
    for path in _all_templates(workspace):
        spec = spec_of(workspace, path)
        clean = fill_workbook(path, spec, workspace.register, tmp_path / f"clean-{path.name}",
                              unit_ratings=unit_ratings_for(workspace.register, "2002-12", {}))
        corpus.append(clean)
        for k, mutation in enumerate(_mutations(workspace, path, clean)):
            wb = load_workbook(clean)
            for (sheet, coord), value in mutation.items():
                wb[sheet][coord].value = value
            target = tmp_path / f"m{k:03d}-{path.name}"
            wb.save(target)
            corpus.append(target)
    computed = recalculated(corpus, tmp_path / "lo")
    agreed, fired, ready, problems = 0, Counter(), 0, 0
    disagreements = []
    for src, calc in zip(corpus, computed, strict=True):
        engine, _ = _engine(workspace, src)
        panel, errors, warnings, status, lines = _panel(calc)
        errs = {x for x in engine if x[2] == "error"}
        problems += len(engine | panel)
        if panel == engine and errors == len({x[:2] for x in errs}):
            agreed += 1
        else:
            disagreements.append((src.name, "engine only:", sorted(engine - panel)[:3],
                                  "template only:", sorted(panel - engine)[:3], errors))
        if src.name.startswith("clean-"):
            assert status == "Ready to send" and errors == 0 and engine == set(), src.name
        if status.startswith("Ready to send"):
            ready += 1
            assert not errs, f"{src.name}: ready to send, yet refused for {errs}"
        else:
            # the Cover lists where, errors first: each line a cell the engine names
            listed = [re.match(r"^(Error|Warning): Sheet '(.*)' ([A-Z]+\d+) \(", x)
                      for x in lines]
            assert all(listed) and len(listed) == min(10, errors + warnings), lines
            said = {(m.group(2), m.group(3), m.group(1).lower()) for m in listed}
            assert said <= engine, (src.name, said - engine, sorted(engine ^ panel)[:5],
                                    [i.text() for i in validate_file(workspace, src)[0].issues
                                     if (i.sheet, i.cell) in {x[:2] for x in engine ^ panel}])
            assert listed[0].group(1) == "Error"
        report, _ = validate_file(workspace, src)
        fired.update(i.code for i in report.issues if i.code in EXPRESSIBLE)
    rate = agreed / len(corpus)
    print(f"\ncorpus: {len(corpus)} workbooks, {problems} problem cells, {agreed} workbooks "
          f"agree ({rate:.0%}); "
          f"{ready} say ready to send; codes broken: {dict(fired)}")
    assert not disagreements, disagreements[:3]
    assert {"required-missing", "out-of-range", "not-allowed", "narrative-required",
            "implausible-value", "percent-as-points", "forecast-date-required",
            "text-too-long", "implausible-date", "value-normalised",
            "actual-missing"} <= set(fired)
