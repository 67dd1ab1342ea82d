"""League tables of organisations, with funnel-plot control limits for proportions.

For a proportion with a denominator (patients seen within 4 hours out of attendances) an
organisation is flagged only where its difference from the overall rate is beyond chance
for its volume: the limits are p ± z·sqrt(p(1−p)/n) around the pooled proportion p, with
z = 1.96 (about 95%) and z = 3.09 (99.8%), as Spiegelhalter advises for performance tables.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

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
    rag: str = ""

    @property
    def short_flag(self) -> str:
        """The flag in a few words, for a slide: 'worse (99.8% limit)', 'within limits'."""
        if not self.flag:
            return f"quartile {self.quartile}"
        if self.flag == "within limits":
            return self.flag
        side = "worse" if "worse" in self.flag else "better"
        return f"{side} ({'99.8%' if '99.8%' in self.flag else '95%'} limit)"


def league(rows: list[dict], *, direction: str = "up") -> list[LeagueRow]:
    """rows: {org, name, value, previous?, numerator?, denominator?} for one period."""
    good_up = direction == "up"
    ordered = sorted(rows, key=lambda r: (-r["value"] if good_up else r["value"], r["org"]))
    n = len(ordered)
    with_den = [r for r in ordered if r.get("denominator")]
    pooled = (sum(r["numerator"] for r in with_den) / sum(r["denominator"] for r in with_den)
              if with_den else None)
    out = []
    for i, r in enumerate(ordered):
        prev = r.get("previous")
        row = LeagueRow(rank=i + 1, org=r["org"], name=r.get("name", r["org"]),
                        value=r["value"], previous=prev,
                        change=None if prev is None else round(r["value"] - prev, 6),
                        quartile=min(4, 1 + (4 * i) // max(n, 1)),
                        numerator=r.get("numerator"), denominator=r.get("denominator"))
        if pooled is not None and r.get("denominator"):
            se = math.sqrt(pooled * (1 - pooled) / r["denominator"])
            row.lower95, row.upper95 = 100 * (pooled - Z95 * se), 100 * (pooled + Z95 * se)
            row.lower998, row.upper998 = 100 * (pooled - Z998 * se), 100 * (pooled + Z998 * se)
            v = r["value"]
            better = (v > row.upper998) if good_up else (v < row.lower998)
            worse = (v < row.lower998) if good_up else (v > row.upper998)
            better95 = (v > row.upper95) if good_up else (v < row.lower95)
            worse95 = (v < row.lower95) if good_up else (v > row.upper95)
            if worse:
                row.flag, row.rag = "worse than expected (beyond 99.8% limit)", "R"
            elif worse95:
                row.flag, row.rag = "possibly worse (beyond 95% limit)", "AR"
            elif better:
                row.flag, row.rag = "better than expected (beyond 99.8% limit)", "G"
            elif better95:
                row.flag, row.rag = "possibly better (beyond 95% limit)", "G"
            else:
                row.flag, row.rag = "within limits", "AG"
        else:
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
    data = []
    for (org, period), f in by.items():
        if period == latest and "actual" in f:
            prev = by.get((org, before), {}).get("actual") if before else None
            data.append({"org": org, "name": names.get(org, org), "value": f["actual"],
                         "previous": prev, "numerator": f.get("numerator"),
                         "denominator": f.get("denominator")})
    return League(latest, league(data, direction=measure.direction), pooled_rate(data),
                  sources)
