"""Growth statistics as pure functions over annual series ({year: value or None}).

Every edge case is decided here, once: a missing or suppressed figure, a zero or negative base, a single
point. A result that cannot be computed is None with a reason, never 0.
"""

from dataclasses import dataclass, field
from operator import itemgetter
from typing import NamedTuple

Series = dict[int, float | None]

CHANGE_FORMULA = "absolute = end - start; percent = 100 * (end - start) / start"
CAGR_FORMULA = "cagr = 100 * ((end / start) ** (1 / (end_year - start_year)) - 1)"
DIGITS = 6  # percentages are rounded to 6 decimals (a millionth of a percentage point)


@dataclass(frozen=True, slots=True)
class Change:
    """The change of a series between two years, with its inputs and the reasons for any null."""

    start_year: int
    end_year: int
    start_value: float | None
    end_value: float | None
    absolute: float | None
    percent: float | None
    cagr: float | None
    reasons: list[str] = field(default_factory=list)
    formula: str = f"{CHANGE_FORMULA}; {CAGR_FORMULA}"


def _missing(series: Series, year: int, statuses: dict[int, str] | None) -> str | None:
    if series.get(year) is not None:
        return None
    status = (statuses or {}).get(year) or ("not_available" if year in series else "no observation")
    return f"no figure for {year} ({status})"


def cagr(start: float, end: float, years: int) -> tuple[float | None, str | None]:
    """Compound annual growth rate in percent, or None and why."""
    if years <= 0:
        return None, "CAGR needs two different years"
    if start <= 0 or end < 0:
        return None, "CAGR is undefined unless the start value is positive and the end value is not negative"
    return round(100 * ((end / start) ** (1 / years) - 1), DIGITS), None


def percent(start: float, end: float) -> tuple[float | None, str | None]:
    if start == 0:
        return None, "percent change is undefined from a zero base"
    return round(100 * (end - start) / abs(start), DIGITS), None


def change(series: Series, start_year: int, end_year: int, statuses: dict[int, str] | None = None) -> Change:
    """Absolute and percent change and CAGR of `series` from `start_year` to `end_year`."""
    if end_year < start_year:
        raise ValueError("end_year must not be before start_year")
    start, end = series.get(start_year), series.get(end_year)
    reasons = [r for r in (_missing(series, start_year, statuses), _missing(series, end_year, statuses)) if r]
    if reasons:
        return Change(start_year, end_year, start, end, None, None, None, reasons)
    pct, why_pct = percent(start, end)
    rate, why_rate = cagr(start, end, end_year - start_year)
    return Change(start_year, end_year, start, end, end - start, pct, rate, [r for r in (why_pct, why_rate) if r])


def index(series: Series, base_year: int) -> tuple[Series, str | None]:
    """The series as an index, base year = 100 (rounded to 6 decimals); all None with a reason if no base."""
    base = series.get(base_year)
    if base is None or base == 0:
        why = f"no figure for the base year {base_year}" if base is None else "the base year's value is zero"
        return {year: None for year in series}, why
    return {year: None if v is None else round(100 * v / base, DIGITS) for year, v in series.items()}, None


def changes(series: Series) -> dict[int, tuple[float | None, float | None]]:
    """Year-on-year (absolute, percent) change; None where either year lacks a figure."""
    result = {}
    for year in sorted(series):
        before, now = series.get(year - 1), series[year]
        if before is None or now is None:
            result[year] = (None, None)
        else:
            result[year] = (now - before, percent(before, now)[0])
    return result


def share(value: float | None, total: float | None) -> float | None:
    """`value` as a percentage of `total` (6 decimals), None if either is missing or the total is not positive."""
    if value is None or total is None or total <= 0:
        return None
    return round(100 * value / total, DIGITS)


def ratio(value: float | None, denominator: float | None) -> float | None:
    """`value` per unit of `denominator` (6 decimals), None if either is missing or the denominator is not positive."""
    if value is None or denominator is None or denominator <= 0:
        return None
    return round(value / denominator, DIGITS)


def first_year_at_least(series: Series, level: float, after: int) -> int | None:
    """The first year after `after` in which the series reaches `level`."""
    return next((y for y in sorted(series) if y > after and series[y] is not None and series[y] >= level), None)


UNITS = ("level", "change", "percent_change", "index", "share")


class Expressed(NamedTuple):
    values: Series
    reason: str | None  # why every value is null, if it is
    reasons: dict[int, str]  # why a value is null although the year has a figure: {year: reason}


def in_units(series: Series, units: str, base_year: int | None = None, totals: Series | None = None,
             statuses: dict[int, str] | None = None, missing_totals: dict[int, str] | None = None) -> Expressed:
    """The series in `units`, why it is all null if it cannot be computed, and why each value that cannot be
    computed from a year's figure is null.

    change and percent_change are year on year; index is base_year = 100; share is percent of `totals`
    (`missing_totals` says why a year has none). `statuses` name why a figure is missing.
    """
    if units == "level":
        return Expressed(dict(series), None, {})
    reason = None
    if units in ("change", "percent_change"):
        pairs = changes(series)
        values = {y: pairs[y][0 if units == "change" else 1] for y in series}
        why = {y: f"year-on-year change needs the year before: {_missing(series, y - 1, statuses)}"
               if series.get(y - 1) is None else "percent change is undefined from a zero base" for y in series}
    elif units == "index":
        values, reason = index(series, base_year)
        why = dict.fromkeys(series, reason)
    elif units == "share":
        totals, missing_totals = totals or {}, missing_totals or {}
        values = {y: share(v, totals.get(y)) for y, v in series.items()}
        why = {y: missing_totals.get(y) or (f"no national total for {y}" if totals.get(y) is None
                                            else f"the national total for {y} is not positive") for y in series}
    else:
        raise ValueError(f"unknown units {units!r}")
    return Expressed(values, reason, {y: why[y] for y, v in values.items() if v is None and series[y] is not None})


def rank(values: list[tuple[object, float]], descending: bool = True,
         limit: int | None = None) -> list[tuple[object, float, int]]:
    """Competition ranking ("1224"): equal values share a rank and the next rank skips; ties keep input order.
    With `limit`, only the first `limit` places (their ranks depend only on the places before them)."""
    ordered = sorted(values, key=itemgetter(1), reverse=descending)  # stable either way
    ranked, previous, position = [], None, 0
    for i, (key, value) in enumerate(ordered[:limit], start=1):
        if value != previous:
            position, previous = i, value
        ranked.append((key, value, position))
    return ranked


# OMB revisions after which ITA's metro definitions changed; ITA does not restate earlier years.
DELINEATION_REVISIONS = (2013, 2018, 2023)


def delineation_caveats(start_year: int, end_year: int) -> list[str]:
    """Caveats for a change between two years that spans a revision of the metro definitions."""
    crossed = [r for r in DELINEATION_REVISIONS if start_year < r <= end_year]
    if not crossed:
        return []
    return [(f"Between {start_year} and {end_year} OMB revised the metro definitions ({', '.join(map(str, crossed))}); "
            "ITA reports each year under the definition then in force, so part of the change can come from "
            "boundary changes.")]
