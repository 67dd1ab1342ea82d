"""A figure far from its measure's own history is warned about (issue 14: 0.13 on a points
measure whose history is in tens), naming the cell, what was found and the band expected;
the return is still accepted, so a true unusual figure can be sent."""

from __future__ import annotations

import pytest

from conftest import block, spec_of
from deliverypack.returns.history import FACTOR, MIN_HISTORY, unusual_figures
from deliverypack.returns.ingest import ingest_file, validate_file
from deliverypack.sample.filler import fill_workbook


@pytest.fixture
def resend(demo_copy, tmp_path):
    """resend(dept, {row: actual}) -> DfES's (or another's) December 2003 return filled
    again, with some of its new actuals changed; and the traj block and its input rows."""
    workspace = demo_copy

    def make(dept: str, changes: dict[int, float], name: str = "again.xlsx"):
        template = workspace.outbox("2003-12") / f"{dept}-2003-12.xlsx"
        spec = spec_of(workspace, template)
        traj = block(spec, "traj")
        rows = [i for i, r in enumerate(traj.rows) if "actual" in r.inputs]
        over = {(traj.name, rows[k], "actual"): v for k, v in changes.items()}
        return fill_workbook(template, spec, workspace.register, tmp_path / name, overrides=over), \
            traj, rows
    return workspace, make


def _warnings(workspace, path):
    rep, _ = validate_file(workspace, path)
    return rep, [i for i in rep.issues if i.code == "unusual-against-history"]


def test_a_slipped_decimal_point_is_warned_about_and_still_accepted(resend):
    workspace, make = resend
    path, traj, rows = make("DfES", {-1: 0.13})
    assert traj.meta["measure"] == "LS1" and workspace.register.measure("LS1").unit == "points"
    rep, found = _warnings(workspace, path)
    assert rep.valid  # a warning: the officer can send a true figure
    [w] = found
    assert w.code == "unusual-against-history" and w.severity == "warning" and w.sheet and w.cell
    assert w.message.startswith("found 0.1 points for ")
    assert "a tenth to ten times the median" in w.message and "please check it" in w.message
    assert ingest_file(workspace, path).valid


def test_figures_near_their_history_pass_and_tenfold_ones_do_not(resend):
    workspace, make = resend
    plain, _, _ = make("DWP", {}, "plain.xlsx")
    assert _warnings(workspace, plain)[1] == []  # the sample's own figures move, but not tenfold
    history = [v for (mid, org, p), r in workspace.ledger.latest_values("actual").items()
               if mid == "JOB1" and not org and (v := r["value"])]
    big, _, _ = make("DWP", {-1: max(history) * FACTOR * 1.5}, "big.xlsx")
    [w] = _warnings(workspace, big)[1]
    assert "between" in w.expected and w.cell


def test_too_little_history_says_nothing():
    """The rule on its own: fewer than MIN_HISTORY earlier figures, no judgement."""
    class Row:
        def __init__(self, period, v):
            self.key, self.v = (period,), v

        def get(self, col):
            return self.v

        def is_input(self, col):
            return True

        def at(self, col):
            from deliverypack.validation.cells import At
            return At("Sheet", f"C{self.key[0][-2:]}")

    class Block:
        def __init__(self, rows):
            self.rows = rows
            self.spec = type("S", (), {"meta": {"measure": "LS1"}})()

    class Read:
        def __init__(self, rows):
            self.rows = rows

        def of_kind(self, kind):
            return iter([Block(self.rows)] if kind == "traj" else [])

    from deliverypack.sample.programme import sample_register
    reg = sample_register()
    few = {("LS1", f"2003-0{k}"): 12.0 for k in range(1, MIN_HISTORY)}
    assert list(unusual_figures(Read([Row("2003-06", 0.13)]), reg, few)) == []
    enough = {("LS1", f"2003-0{k}"): 12.0 for k in range(1, MIN_HISTORY + 1)}
    [w] = unusual_figures(Read([Row("2003-06", 0.13)]), reg, enough)
    assert w.cell == "C06" and "median 12.0 points of its last 3 figures" in w.message
    assert list(unusual_figures(Read([Row("2003-06", 1.2)]), reg, enough)) == []  # a tenth
    assert list(unusual_figures(Read([Row("2003-06", 120.0)]), reg, enough)) == []  # ten times
