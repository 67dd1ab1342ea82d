"""The fast readers agree with the full ones: whatever `fast` accepts, `full` reads the same
value without an issue; everything else is left to `full` (SLOW)."""

from __future__ import annotations

import datetime as dt

import pytest

from deliverypack.validation.cells import (
    SLOW,
    At,
    code_reader,
    date_reader,
    number_reader,
    text_reader,
)

RAWS = [None, "", " ", "  \t", 0, 1, -1, 0.0, 0.5, 0.98, 1.0, 1.5, 1.6, 42, 42.0, 99.5, 100,
        100.0, 100.5, 1e9, -3.2, 12.345678901234, True, False, "12", "12,345", "98%", "G",
        "g", "Green", "AG", "text", " padded ", "=SUM(A1)", "+44 20", "-5", "@x",
        "x" * 5000, dt.date(2003, 1, 1), dt.datetime(2003, 1, 1, 9, 30), "03/04/2003",
        37622, 37622.0]

READERS = {
    "number": number_reader(what="a number"),
    "number required": number_reader(required=True),
    "number bounded": number_reader(minimum=0, maximum=50, plausible=(1, 40)),
    "percent": number_reader(percent=True),
    "percent plausible": number_reader(percent=True, plausible=(50, None)),
    "whole": number_reader(whole=True),
    "text": text_reader(),
    "text required": text_reader(required=True, max_len=10),
    "code": code_reader(["G", "AG", "AR", "R"]),
    "code required": code_reader(["G", "AG", "AR", "R"], required=True),
    "date": date_reader(),
    "date required": date_reader(required=True),
}


@pytest.mark.parametrize("name", READERS)
def test_fast_never_disagrees_with_full(name):
    reader = READERS[name]
    at = At("Sheet", "B2", "f.xlsx")
    for raw in RAWS:
        fast = reader.fast(raw)
        if fast is SLOW:
            continue
        out: list = []
        full = reader.full(raw, at, out)
        assert out == [], f"{name}: fast accepted {raw!r} but full says {out}"
        assert full == fast and type(full) is type(fast), f"{name}: {raw!r}: {fast!r} != {full!r}"


def test_fast_answers_the_everyday_cells():
    """Otherwise the fast path would be a stub: these are most of a real return."""
    assert READERS["number"].fast(42.0) == 42.0
    assert READERS["percent"].fast(0.98) == 98.0
    assert READERS["whole"].fast(3.0) == 3
    assert READERS["text"].fast("On track") == "On track"
    assert READERS["code"].fast("AG") == "AG"
    assert READERS["date"].fast(dt.datetime(2003, 1, 1)) == dt.date(2003, 1, 1)
    assert all(READERS[n].fast(v) is None for n, v in (("number", ""), ("text", None),
                                                         ("code", ""), ("date", None)))
    # and leave to the full reader everything that needs a word with the officer
    for name, raw in (("percent", 98), ("number required", None), ("text", "=1+1"),
                      ("code", "Green"), ("number bounded", 45), ("whole", 2.5)):
        assert READERS[name].fast(raw) is SLOW, (name, raw)
