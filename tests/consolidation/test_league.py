"""League tables: ties share a rank, a quartile and a RAG; a proportion is rated against
the standard; a count becomes a rate where there is a denominator, else is not rated."""

from __future__ import annotations

from deliverypack.consolidation.league import League, league, rag_basis
from deliverypack.consolidation.rag import format_change
from deliverypack.foundation.domain import Measure


def measure(**kw) -> Measure:
    base = dict(id="M", priority_id="P", name="m", unit="percent", direction="up",
                target=90, target_period="2004-01", tolerance_ag=1, tolerance_ar=3)
    return Measure(**{**base, **kw})


def rows(values: dict[str, float], **extra) -> list[dict]:
    return [{"org": k, "name": k, "value": v, **extra.get(k, {})} for k, v in values.items()]


def test_ties_share_a_rank_a_quartile_and_a_rag():
    m = measure(unit="points")
    table = league(rows({"a": 10, "b": 8, "c": 8, "d": 6, "e": 5, "f": 4, "g": 4, "h": 1}),
                   measure=m)
    assert [r.rank_label for r in table] == ["1", "2=", "2=", "4", "5", "6=", "6=", "8"]
    b, c = table[1], table[2]
    assert b.quartile == c.quartile and b.rag == c.rag
    f, g = table[5], table[6]
    assert (f.rank, f.quartile, f.rag) == (g.rank, g.quartile, g.rag)
    assert rag_basis(m, []) == "quartile"


def test_a_proportion_is_rated_against_the_standard_not_the_rate_for_all():
    m = measure()
    data = rows({"big": 90.2, "small": 80.0, "mid": 88.5},
                big={"numerator": 902, "denominator": 1000},
                small={"numerator": 80, "denominator": 100},
                mid={"numerator": 885, "denominator": 1000})
    table = {r.org: r for r in league(data, measure=m)}
    assert table["big"].rag == "G"  # 90.2% against a 90% standard
    assert table["mid"].rag == "AR"  # 1.5 points short: beyond AG, within AR
    assert table["small"].rag == "R"
    assert table["big"].flag  # the funnel limits are still given, as information


def test_a_count_becomes_a_rate_or_is_not_rated():
    m = measure(unit="count", direction="down", target=1000)
    raw = rows({"large": 900, "small": 100})
    assert rag_basis(m, raw) == "none"
    table = league(raw, measure=m)
    assert {r.rag for r in table} == {""}  # large bodies are not red for being large
    pop = rows({"large": 900, "small": 100}, large={"denominator": 1_000_000},
               small={"denominator": 50_000})
    table = league(pop, measure=m)
    assert [r.org for r in table] == ["large", "small"]  # 0.9 per 1,000 beats 2.0
    assert table[0].rate == 0.9 and table[1].rate == 2.0 and table[1].rag == "AR"


def test_top_and_bottom_five_keep_ties_at_the_edge():
    m = measure(unit="points")
    values = {chr(97 + i): float(20 - i) for i in range(12)}
    values["f"] = values["e"]  # a tie across the fifth place
    lg = League("2003-12", league(rows(values), measure=m), None, {}, "quartile", 12)
    picked = [r.org for r in lg.pick(5)]
    assert picked[:6] == ["a", "b", "c", "d", "e", "f"] and picked[-5:] == list("hijkl")


def test_a_change_in_a_rate_reads_in_points_and_a_count_keeps_its_unit():
    """The annex's 'Change on previous': 35.0% to 38.3% is +3.3 points; '+3.3%' would read
    as a relative rise of a thirtieth."""
    assert format_change(measure(unit="percent"), 38.3 - 35.0) == "+3.3 points"
    assert format_change(measure(unit="percent"), -1.25) == "-1.2 points"
    assert format_change(measure(unit="points"), 0.6) == "+0.6 points"
    assert format_change(measure(unit="count"), -1200) == "-1,200"
    assert format_change(measure(unit="gbp"), -2500) == "-£2,500"
    assert format_change(measure(unit="count"), 0) == "0"
    assert format_change(measure(unit="percent"), None) == "–"
