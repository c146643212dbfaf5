"""Rankings, the national summary and concentration: pure functions over figures already read from the store."""

from dataclasses import dataclass, field
from functools import cached_property
from operator import attrgetter

from models.growth import CAGR_FORMULA, CHANGE_FORMULA, Change, change, rank, share

Figures = dict[int, tuple[float | None, str]]  # year → (value, status)


@dataclass
class Place:
    code: str
    name: str
    figures: Figures = field(default_factory=dict)
    changes: dict[tuple[int, int], Change] = field(default_factory=dict, repr=False, compare=False)

    def value(self, year: int) -> float | None:
        return self.figures.get(year, (None, "not_available"))[0]

    def status(self, year: int) -> str:
        return self.figures.get(year, (None, "not_available"))[1]

    @cached_property
    def series(self) -> tuple[dict[int, float | None], dict[int, str]]:
        """The figures as change() takes them: {year: value} and {year: status}."""
        return {y: v for y, (v, _) in self.figures.items()}, {y: s for y, (_, s) in self.figures.items()}

    def change(self, start: int, end: int) -> Change:
        """change() of this place's figures, remembered (the API builds places once per data version; their
        figures must not change after the first call)."""
        if (start, end) not in self.changes:
            values, statuses = self.series
            self.changes[start, end] = change(values, start, end, statuses)
        return self.changes[start, end]


FORMULAS = {"value": "the source figure in the year",
            "share": "share = 100 * value / national total in the year",
            "growth": CHANGE_FORMULA, "cagr": CAGR_FORMULA}


def ranking(places: list[Place], by: str, year: int | None = None, start: int | None = None, end: int | None = None,
            min_base: float = 0, totals: dict[int, float] | None = None, descending: bool = True,
            limit: int | None = None) -> tuple[list[dict], list[dict], int]:
    """Rank places by value, share, growth (percent change) or CAGR; return (the first `limit` ranked, excluded
    with reasons, how many were ranked)."""
    scored, excluded = [], []
    for place in sorted(places, key=attrgetter("code")):
        if by in ("value", "share"):
            base = place.value(year)
            if base is None:
                excluded.append(_excluded(place, f"no figure for {year} ({place.status(year)})"))
                continue
            score = base if by == "value" else share(base, (totals or {}).get(year))
            start_value, end_value = None, base
            if score is None:
                excluded.append(_excluded(place, f"no national total for {year}"))
                continue
        else:
            result = place.change(start, end)
            base, score = result.start_value, result.percent if by == "growth" else result.cagr
            start_value, end_value = result.start_value, result.end_value
            if score is None:
                excluded.append(_excluded(place, "; ".join(result.reasons)))
                continue
        if base < min_base:
            excluded.append(_excluded(place, f"base {base:.0f} is below min_base {min_base}"))
            continue
        scored.append(((place, start_value, end_value), score))
    ranked = [{"code": place.code, "name": place.name, "start_value": start_value, "end_value": end_value,
               "value": score, "rank": position}
              for (place, start_value, end_value), score, position in rank(scored, descending, limit)]
    return ranked, excluded, len(scored)


def _excluded(place: Place, reason: str) -> dict:
    return {"code": place.code, "name": place.name, "reason": reason}


def aggregate(values: dict[str, float | None], base_values: dict[str, float | None], year: int, base_year: int,
              threshold: float, national_total: float | None, rows: str) -> dict:
    """Total, change since the base year, count above the threshold and share of the nation, for some rows."""
    now = [v for v in values.values() if v is not None]
    before = [v for v in base_values.values() if v is not None]
    total, base_total = sum(now), sum(before)
    return {
        "rows": rows,
        "places_with_figure": len(now),
        "places_with_base_figure": len(before),
        "total": total,
        "base_total": base_total,
        "change": change({base_year: base_total if before else None, year: total if now else None}, base_year, year),
        "above_threshold": sum(1 for v in now if v > threshold),
        "share_of_national_total": share(total, national_total),
    }


def concentration_share(members: list[str], values: dict[str, float | None],
                        denominator: float | None) -> tuple[float | None, float | None, list[str], str | None]:
    """(sum over the members, share of the denominator in percent, members without a figure, reason if null)."""
    missing = [code for code in members if values.get(code) is None]
    top_total = sum(values[c] for c in members if values.get(c) is not None)
    if denominator is None:
        return top_total, None, missing, "no denominator for this year in the sources"
    return top_total, share(top_total, denominator), missing, None
