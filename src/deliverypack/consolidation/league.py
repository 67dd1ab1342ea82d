"""League tables of organisations, with funnel-plot control limits for proportions.

For a proportion with a denominator (patients seen within 4 hours out of attendances) an
organisation is flagged only where its difference from the overall rate is beyond chance
for its volume: the limits are p ± z·sqrt(p(1−p)/n) around the pooled proportion p, with
z = 1.96 (about 95%) and z = 3.09 (99.8%), as Spiegelhalter advises for performance tables.

The RAG says something else, and says it honestly: a proportion is rated against the
standard (the measure's target, with its tolerances), not against the pooled rate; a count
is turned into a rate per 1,000 where the return gives a denominator, or per 100,000
people where the register gives each organisation's population, and is not RAG-rated where
neither is known (the largest bodies are not red for being large); any other measure is
rated by quartile. Ties share a rank, a quartile and a RAG.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..foundation.domain import Measure
from .rag import data_rag

Z95, Z998 = 1.959964, 3.090232


@dataclass
class LeagueRow:
    rank: int
    org: str
    name: str
    value: float  # percentage points, or the measure's units
    previous: float | None
    change: float | None
    quartile: int  # 1 = best quarter
    numerator: float | None = None
    denominator: float | None = None
    lower95: float | None = None
    upper95: float | None = None
    lower998: float | None = None
    upper998: float | None = None
    flag: str = ""  # "worse than expected (beyond 99.8% limit)", ... "within limits"
    rag: str = ""  # "" when the measure is not RAG-rated (a count without a population)
    tied: bool = False  # shares its rank with another organisation
    rate: float | None = None  # a count per 1,000 of its denominator (100,000 people)

    @property
    def rank_label(self) -> str:
        """'3', or '3=' for a tie."""
        return f"{self.rank}{'=' if self.tied else ''}"

    @property
    def short_flag(self) -> str:
        """The flag in a few words, for a slide: 'worse (99.8% limit)', 'within limits'."""
        if not self.flag:
            return f"quartile {self.quartile}"
        if self.flag == "within limits":
            return self.flag
        side = "worse" if "worse" in self.flag else "better"
        return f"{side} ({'99.8%' if '99.8%' in self.flag else '95%'} limit)"


def rag_basis(measure: Measure | None, rows: list[dict]) -> str:
    """How a league table's RAG is decided: standard, quartile, rate-quartile (a count over
    its denominator), population-quartile (a count per 100,000 people) or none."""
    if measure is None:
        return "quartile"
    if measure.unit == "percent":
        return "standard"
    if measure.unit == "count":
        if rows and all(r.get("denominator") for r in rows):
            return "rate-quartile"
        if rows and all(r.get("population") for r in rows):
            return "population-quartile"
        return "none"
    return "quartile"


RATE_PER = {"rate-quartile": (1000.0, "per 1,000"),
            "population-quartile": (100_000.0, "per 100,000 people")}


def league(rows: list[dict], *, direction: str = "up", measure: Measure | None = None
           ) -> list[LeagueRow]:
    """rows: {org, name, value, previous?, numerator?, denominator?} for one period."""
    good_up = (measure.direction if measure is not None else direction) == "up"
    basis = rag_basis(measure, rows)

    def score(r: dict) -> float:
        """What is ranked: the value, or a count's rate per 1,000 of its denominator (per
        100,000 of its population)."""
        if basis == "rate-quartile":
            return 1000.0 * r["value"] / r["denominator"]
        if basis == "population-quartile":
            return 100_000.0 * r["value"] / r["population"]
        return r["value"]

    ordered = sorted(rows, key=lambda r: (-score(r) if good_up else score(r), r["org"]))
    n = len(ordered)
    keys = [round(score(r), 1) for r in ordered]  # ties as the table prints them
    ranks: list[int] = []
    for i, k in enumerate(keys):
        ranks.append(ranks[-1] if i and k == keys[i - 1] else i + 1)
    with_den = [r for r in ordered if r.get("denominator")]
    pooled = (sum(r["numerator"] for r in with_den) / sum(r["denominator"] for r in with_den)
              if with_den and all(r.get("numerator") is not None for r in with_den) else None)
    out = []
    for i, r in enumerate(ordered):
        prev = r.get("previous")
        if basis == "population-quartile" and prev is not None:
            prev = 100_000.0 * prev / r["population"]  # the same people, the month before
        rank = ranks[i]
        row = LeagueRow(rank=rank, org=r["org"], name=r.get("name", r["org"]),
                        value=r["value"], previous=prev,
                        change=None if prev is None else round(score(r) - prev, 6)
                        if basis == "population-quartile" else
                        None if prev is None else round(r["value"] - prev, 6),
                        quartile=min(4, 1 + (4 * (rank - 1)) // max(n, 1)),
                        numerator=r.get("numerator"), denominator=r.get("denominator"),
                        tied=ranks.count(rank) > 1,
                        rate=score(r) if basis in RATE_PER else None)
        if pooled is not None and r.get("denominator") and basis != "rate-quartile":
            se = math.sqrt(pooled * (1 - pooled) / r["denominator"])
            row.lower95, row.upper95 = 100 * (pooled - Z95 * se), 100 * (pooled + Z95 * se)
            row.lower998, row.upper998 = 100 * (pooled - Z998 * se), 100 * (pooled + Z998 * se)
            v = r["value"]
            better = (v > row.upper998) if good_up else (v < row.lower998)
            worse = (v < row.lower998) if good_up else (v > row.upper998)
            better95 = (v > row.upper95) if good_up else (v < row.lower95)
            worse95 = (v < row.lower95) if good_up else (v > row.upper95)
            if worse:
                row.flag = "worse than expected (beyond 99.8% limit)"
            elif worse95:
                row.flag = "possibly worse (beyond 95% limit)"
            elif better:
                row.flag = "better than expected (beyond 99.8% limit)"
            elif better95:
                row.flag = "possibly better (beyond 95% limit)"
            else:
                row.flag = "within limits"
        if measure is None and row.flag:  # no standard known: the funnel decides
            row.rag = ("R" if "worse than" in row.flag else "AR" if "worse" in row.flag
                       else "G" if "better" in row.flag else "AG")
        elif basis == "standard" and measure is not None:
            row.rag = data_rag(measure, measure.target, r["value"]) or ""
        elif basis in ("quartile", *RATE_PER):
            row.rag = {1: "G", 2: "AG", 3: "AR", 4: "R"}[row.quartile]
        out.append(row)
    return out


def pooled_rate(rows: list[dict]) -> float | None:
    with_den = [r for r in rows if r.get("denominator")]
    if not with_den:
        return None
    return 100 * sum(r["numerator"] for r in with_den) / sum(r["denominator"] for r in with_den)


@dataclass
class League:
    """A measure's league table for its latest period, with where each value came from."""

    period: str
    rows: list[LeagueRow]
    pooled: float | None
    sources: dict[str, str]
    basis: str = "quartile"  # standard | quartile | rate-quartile | population-quartile | none
    expected: int = 0  # organisations the register lists for the measure

    def rag_words(self, measure: Measure) -> str:
        """What the RAG column means, for a heading or a note."""
        from .rag import format_value
        return {"standard": f"RAG against the {format_value(measure, measure.target)} "
                            "standard",
                "quartile": "RAG by quartile (1 = best)",
                "rate-quartile": "RAG by quartile of the rate per 1,000",
                "population-quartile": "RAG by quartile of the rate per 100,000 people",
                "none": "Not RAG-rated: a count without a population, listed in order of "
                        "the count, not ranked on performance"}[self.basis]

    @property
    def per(self) -> str:
        """'per 1,000' or 'per 100,000 people' when values are rates, else ''."""
        return RATE_PER[self.basis][1] if self.basis in RATE_PER else ""

    def pick(self, each: int = 5) -> list[LeagueRow]:
        """The top and bottom `each` (ties at the edge included), or all if few."""
        if len(self.rows) <= 2 * each:
            return list(self.rows)
        top_rank = self.rows[each - 1].rank
        bottom_rank = self.rows[-each].rank
        return [r for r in self.rows if r.rank <= top_rank or r.rank >= bottom_rank]


def league_for(reg, led, measure, round_id: str) -> League | None:
    """The league table of a measure reported by organisation, from the ledger: only the
    latest two periods are read, so memory stays flat with tens of thousands of them."""
    periods = led.org_periods(measure.id, round_id)
    if not periods:
        return None
    latest, before = periods[0], (periods[1] if len(periods) > 1 else None)
    by: dict[tuple[str, str], dict[str, float]] = {}
    sources: dict[str, str] = {}
    for r in led.org_values(measure.id, periods, round_id):
        by.setdefault((r["org_id"], r["period"]), {})[r["field"]] = r["value"]
        if r["field"] == "actual" and r["period"] == latest:
            sources[r["org_id"]] = (f"{r['file_name']}, sheet '{r['sheet']}', cell "
                                    f"{r['cell']} (round {r['round']})")
    names = {o.id: o.name for o in reg.organisations_for(measure)}
    people = {o.id: o.population for o in reg.organisations_for(measure)}
    data = []
    for (org, period), f in by.items():
        if period == latest and "actual" in f:
            prev = by.get((org, before), {}).get("actual") if before else None
            data.append({"org": org, "name": names.get(org, org), "value": f["actual"],
                         "previous": prev, "numerator": f.get("numerator"),
                         "denominator": f.get("denominator"), "population": people.get(org)})
    return League(latest, league(data, measure=measure), pooled_rate(data), sources,
                  rag_basis(measure, data), len(names))
