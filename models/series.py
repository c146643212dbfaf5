"""One place's series in the units a client asks for (level, year-on-year change, percent change, index, share of
the nation), and its growth between two years: the bodies the API answers with (series are encoded as they are:
tests/test_contract.py checks them against schemas.common.SeriesSchema)."""

from collections import defaultdict
from collections.abc import Callable, Iterable

from models.growth import change, delineation_caveats, in_units
from models.observation import ALL_INDUSTRIES, INDICATORS, WORLD, AmbiguousDataset, figure

# (dataset, indicator, industry, partner) → the national totals a share divides by (models.figures.national)
Denominators = Callable[[str, str, str, str], object]


def indicators(names: Iterable[str]) -> list:
    return [INDICATORS[n] for n in sorted(set(names)) if n in INDICATORS]


def express(rows, units: str, base_year: int | None, year_from: int | None, year_to: int | None,
            denominators: Denominators) -> tuple[list[dict], list[dict]]:
    """Points from `year_from` to `year_to` in `units` (the source figure kept as `level`), and the denominators
    or bases used. `rows` is the whole series: a change or an index may need years outside the range."""
    first, last = year_from or 0, year_to or 9999
    groups = defaultdict(list)
    fields = rows[0]._fields if rows else ()
    for row in rows:
        point = dict(zip(fields, row))  # a fifth of Row._asdict()'s cost (measured)
        # a series released several times is one series: its years may come from different releases
        groups[point.get("series", point["dataset_id"]), point["indicator"], point.get("industry", ALL_INDUSTRIES),
               point.get("partner", WORLD)].append(point)
    points, notes = [], []
    for (dataset, indicator, industry, partner), members in groups.items():
        levels = {p["year"]: p["value"] for p in members}
        totals = denominators(dataset, indicator, industry, partner) if units == "share" else None
        values, reason = in_units(levels, units, base_year, totals.values if totals else None)
        note = {"dataset": dataset, "indicator": indicator, "industry": industry, "units": units, "reason": reason}
        if totals:
            note.update(denominator=totals.definition, denominator_values={
                str(y): figure(totals.values.get(y)) for y in levels if first <= y <= last})
        if units == "index":
            note.update(base_year=base_year, base_value=figure(levels.get(base_year)))
        notes.append(note)
        for point in members:
            if first <= point["year"] <= last:
                point.update(level=point["value"], value=values[point["year"]])
                points.append(point)
    return points, notes


def series_body(geography: dict, rows, sources: list, args: dict, denominators: Denominators,
                extra: tuple[str, ...] = ()) -> dict:
    """A series as the API answers it (schemas.common.SeriesSchema): its points in args["units"] between args["from_"]
    and args["to"], with the place, indicators, sources and the basis of the units; `extra` columns of the rows are
    kept on each point (a state's industry and partner)."""
    points, basis = express(rows, args["units"], args.get("base_year"), args.get("from_"), args.get("to"),
                            denominators)
    return {
        "geography": geography,
        "indicators": indicators(p["indicator"] for p in points),
        "sources": sources,
        "units": args["units"],
        "units_basis": basis,
        "data": [{"year": p["year"], "value": figure(p["value"]), "status": p["status"], "dataset": p["dataset_id"],
                  "indicator": p["indicator"], "level": figure(p["level"]), **{k: p[k] for k in extra}}
                 for p in points],
    }


def growth_body(geography, rows, start: int, end: int, sources_of: Callable[[Iterable[str]], list],
                industry: str = ALL_INDUSTRIES, delineations: bool = False) -> dict:
    """The change of one place's series between two years, with its sources and caveats (schemas.stats.GrowthSchema).
    AmbiguousDataset if two datasets give one year different figures."""
    figures = {}
    for r in rows:
        if r.year in figures and figures[r.year].value != r.value:
            raise AmbiguousDataset(f"several datasets give a figure for {r.year}: choose one with dataset=")
        figures[r.year] = r
    result = change({y: r.value for y, r in figures.items()}, start, end, {y: r.status for y, r in figures.items()})
    used = sorted({figures[y].dataset_id for y in (start, end) if y in figures})
    caveats = delineation_caveats(start, end) if delineations else []
    if len(used) > 1:
        caveats.append(f"The start and end figures come from different datasets ({', '.join(used)}).")
    indicator = next(iter(figures.values())).indicator if figures else "exports_goods"
    return {"geography": geography, "indicator": INDICATORS[indicator], "industry": industry,
            "sources": sources_of(used or {r.dataset_id for r in rows}), "change": result, "caveats": caveats}
