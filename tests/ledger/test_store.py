"""The ledger's transactions: a file's, a batch's and atomic()'s each commit whole, and a
failure inside leaves nothing of theirs committed (a batch keeps the whole files done)."""

from __future__ import annotations

import sqlite3

import pytest

from deliverypack.ledger.store import Ledger


def _kept(path, key: str) -> bool:
    """Whether a row is committed, seen from another connection."""
    other = sqlite3.connect(path)
    try:
        return other.execute("SELECT 1 FROM meta WHERE key=?", (key,)).fetchone() is not None
    finally:
        other.close()


def _put(led: Ledger, key: str) -> None:
    with led.transaction() as db:
        db.execute("INSERT INTO meta VALUES (?, 'x')", (key,))


@pytest.fixture
def led(tmp_path):
    ledger = Ledger(tmp_path / "ledger.sqlite")
    yield ledger
    ledger.close()


def test_a_failure_inside_atomic_leaves_none_of_its_steps_committed(led):
    commits = led.commits
    with pytest.raises(ValueError, match="the second step failed"), led.atomic():
        _put(led, "upload")
        _put(led, "upload-record")
        assert not _kept(led.path, "upload")  # a step's savepoint never commits alone
        raise ValueError("the second step failed")
    assert not _kept(led.path, "upload") and not _kept(led.path, "upload-record")
    assert led.commits == commits and not led.db.in_transaction
    with led.atomic():  # and the ledger is usable again: the next one commits whole
        _put(led, "upload")
        _put(led, "upload-record")
    assert _kept(led.path, "upload") and _kept(led.path, "upload-record")
    assert led.commits == commits + 1


def test_a_failure_inside_one_files_transaction_leaves_nothing_committed(led):
    with pytest.raises(KeyboardInterrupt), led.transaction() as db:
        db.execute("INSERT INTO meta VALUES ('half', 'x')")
        raise KeyboardInterrupt
    assert not _kept(led.path, "half") and not led.db.in_transaction
    _put(led, "whole")
    assert _kept(led.path, "whole") and led.commits == 1


def test_a_failure_inside_a_batch_keeps_the_files_done_and_none_of_the_one_failing(led):
    with pytest.raises(KeyboardInterrupt), led.batch():
        _put(led, "file-1")
        _put(led, "file-2")
        with led.transaction() as db:
            db.execute("INSERT INTO meta VALUES ('file-3', 'x')")
            raise KeyboardInterrupt
    assert _kept(led.path, "file-1") and _kept(led.path, "file-2")
    assert not _kept(led.path, "file-3") and not led.db.in_transaction
    assert led.commits == 1


class _FailingCommit:
    """The ledger's connection, but its COMMIT fails as on a full disk."""

    def __init__(self, db: sqlite3.Connection):
        self.db = db

    def execute(self, sql: str, *args):
        if sql == "COMMIT":
            raise sqlite3.OperationalError("database or disk is full")
        return self.db.execute(sql, *args)

    def __getattr__(self, name: str):
        return getattr(self.db, name)


def test_a_batch_whose_commit_fails_after_a_failure_keeps_nothing_and_says_the_first(led):
    real = led.db
    with pytest.raises(KeyboardInterrupt), led.batch():
        _put(led, "file-1")
        led.db = _FailingCommit(real)  # type: ignore[assignment]
        raise KeyboardInterrupt  # the first cause is raised, not the commit's failure
    led.db = real
    assert not _kept(led.path, "file-1") and not led.db.in_transaction
    assert led.commits == 0


def test_atomic_refuses_to_run_inside_a_batch(led):
    with led.batch(), pytest.raises(RuntimeError, match="inside a batch"), led.atomic():
        pass
