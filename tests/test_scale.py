"""Organisations returning their own returns, parallel ingest, and flat memory by design."""

from __future__ import annotations

import shutil

import pytest

from conftest import spec_of
from deliverypack.consolidation.league import league_for
from deliverypack.consolidation.views import measure_series
from deliverypack.ledger.workspace import Workspace
from deliverypack.returns.ingest import ingest_files
from deliverypack.sample.filler import fill_workbook
from deliverypack.sample.programme import ACTIONS, sample_register, sample_workspace
from deliverypack.templates.issue import issue_organisation_returns, issue_returns
from deliverypack.validation.layout import organisations_of
from deliverypack.validation.register import write_register


@pytest.fixture
def org_ws(tmp_path) -> Workspace:
    """The sample programme, with the A&E measure returned by each trust itself."""
    workspace = sample_workspace(tmp_path / "ws")
    reg = sample_register()
    for m in reg.measures:
        if m.id == "AE4":
            m.returned_by = "organisation"
    write_register(workspace.register_path, reg, ACTIONS)
    return Workspace.open(workspace.root)


def _fill_all(workspace, paths, folder):
    folder.mkdir()
    return [fill_workbook(p, spec_of(workspace, p), workspace.register, folder / p.name, seed=k)
            for k, p in enumerate(paths)]


def test_each_organisation_gets_its_own_small_return(org_ws):
    orgs = issue_organisation_returns(org_ws, "2002-12")
    assert len(orgs) == 12 and all(p.parent.name == "organisations" for p in orgs)
    spec = spec_of(org_ws, orgs[0])
    assert spec.kind == "org_return" and spec.department == "R1H"
    rows = [b for _, b in spec.blocks() if b.kind == "orgs"][0].rows
    assert {r["org"] for r in rows} == {"R1H"} and len(rows) == 6
    dh = next(p for p in issue_returns(org_ws, "2002-12") if p.name.startswith("DH-"))
    assert not [b for _, b in spec_of(org_ws, dh).blocks() if b.kind in ("orgs", "traj")]


def test_organisations_share_one_spec_per_group_and_round(org_ws, tmp_path):
    orgs = issue_organisation_returns(org_ws, "2002-12")
    led = org_ws.ledger
    kept = led.query("SELECT template_id, department, length(spec) AS size FROM templates "
                     "WHERE kind='org_return'")
    assert len(kept) == 1 and kept[0]["department"] == "DH"  # one, not one per trust
    shared = led.template(kept[0]["template_id"])
    assert len(organisations_of(shared)) == 12
    own = [spec_of(org_ws, p) for p in orgs]  # each read back through its own making
    assert len({s.template_id for s in own}) == 12
    assert all(s.template_id.startswith(shared.template_id + "/") for s in own)
    # what the workbook says on its cover is what the spec it is read through expects
    cover = own[3].sheets[0].blocks[0].rows
    assert {r["field"]: r["value"] for r in cover}["Organisation"] == own[3].department
    assert led.template(f"{shared.template_id}/NOT-A-TRUST") is None
    assert led.issued_organisations("2002-12") == {p.name.split("-")[0] for p in orgs}
    # a trust's return filled and read back is accepted and counted as that trust's
    filled = fill_workbook(orgs[3], own[3], org_ws.register, tmp_path / orgs[3].name)
    report = ingest_files(org_ws, [filled])[0]
    assert report.valid and report.department == own[3].department


@pytest.mark.parametrize("jobs", [1, 2])
def test_org_returns_feed_the_same_measure_and_league_table(org_ws, tmp_path, jobs):
    filled = _fill_all(org_ws, issue_organisation_returns(org_ws, "2002-12"),
                       tmp_path / "in")
    seen = []
    reports = ingest_files(org_ws, filled, jobs=jobs, progress=seen.append)
    assert [r.flatten(("code", "sheet", "cell", "message")) for r in reports if not r.valid] == []
    assert len(seen) == 12
    assert [r.file for r in reports] == [p.name for p in filled]  # kept in file order
    lg = league_for(org_ws.register, org_ws.ledger, org_ws.register.measure("AE4"), "2002-12")
    assert lg.period == "2002-12" and len(lg.rows) == 12
    assert "R1H-2002-12.xlsx" in lg.sources["R1H"]
    series = measure_series(org_ws.register, org_ws.ledger, org_ws.register.measure("AE4"),
                            "2002-12")
    nums = {r["org_id"]: r["value"] for r in org_ws.ledger.query(
        "SELECT org_id, value FROM measure_values WHERE field='numerator' AND "
        "period='2002-12'")}
    dens = {r["org_id"]: r["value"] for r in org_ws.ledger.query(
        "SELECT org_id, value FROM measure_values WHERE field='denominator' AND "
        "period='2002-12'")}
    assert series.actual["2002-12"] == pytest.approx(100 * sum(nums.values()) /
                                                     sum(dens.values()))


def test_parallel_ingest_of_mixed_files_matches_sequential(workspace, filled, tmp_path):
    files = [filled(d) for d in ("HO", "DH", "BIS")]
    bad = tmp_path / "junk.xlsx"
    bad.write_text("not a workbook")
    files.append(bad)
    copy = tmp_path / "copy"
    shutil.copytree(workspace.root, copy)
    one = ingest_files(workspace, files, jobs=1)
    two = ingest_files(Workspace.open(copy), files, jobs=2)
    assert [(r.file, r.status, sorted(r.codes())) for r in one] == \
        [(r.file, r.status, sorted(r.codes())) for r in two]
    count = "SELECT count(*) FROM measure_values"
    assert workspace.ledger.query(count)[0][0] == Workspace.open(copy).ledger.query(count)[0][0]


def test_interrupted_ingest_leaves_whole_files_only(workspace, filled, monkeypatch):
    from deliverypack.returns import ingest as mod
    files = [filled(d) for d in ("HO", "DH", "BIS")]
    real, calls = mod.keep, []

    def keep_then_interrupt(*a, **k):
        if len(calls) == 2:
            raise KeyboardInterrupt
        calls.append(1)
        return real(*a, **k)
    monkeypatch.setattr(mod, "keep", keep_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        ingest_files(workspace, files, jobs=1)
    subs = workspace.ledger.query("SELECT department FROM submissions ORDER BY id")
    assert [s[0] for s in subs] == ["HO", "DH"]
    for sid in workspace.ledger.current_ids():
        n = workspace.ledger.query("SELECT count(*) FROM measure_values WHERE submission_id=?",
                            sid)[0][0]
        sub = dict(workspace.ledger.query("SELECT * FROM submissions WHERE id=?", sid)[0])
        assert n > 0, sub


def test_interrupted_mid_file_keeps_the_files_done_and_none_of_that_one(workspace, filled,
                                                                         monkeypatch):
    """Ctrl-C while a file's values are being written, inside a batch: the files before it
    are committed (seen from another connection), the interrupted one is not there at all."""
    import sqlite3

    from deliverypack.ledger.store import Ledger
    files = [filled(d) for d in ("HO", "DH", "BIS")]
    real, calls = Ledger._store_content, []

    def store_then_interrupt(self, db, sid, sub, content):
        calls.append(sub["department"])
        real(self, db, sid, sub, content)  # the values are written ...
        if len(calls) == 3:
            raise KeyboardInterrupt  # ... and the file is cut off before its end
    monkeypatch.setattr(Ledger, "_store_content", store_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        ingest_files(workspace, files, jobs=1)
    other = sqlite3.connect(workspace.ledger_path)
    assert [r[0] for r in other.execute("SELECT department FROM submissions ORDER BY id")] \
        == ["HO", "DH"]
    orphans = other.execute("SELECT count(*) FROM measure_values WHERE submission_id NOT IN "
                            "(SELECT id FROM submissions)").fetchone()[0]
    assert orphans == 0
    per_file = other.execute("SELECT count(*) FROM measure_values GROUP BY submission_id"
                             ).fetchall()
    assert len(per_file) == 2 and all(n > 0 for (n,) in per_file)
