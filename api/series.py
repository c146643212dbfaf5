"""Series in the units a client asks for: level, year-on-year change, percent change, index, share of the nation."""

from collections import defaultdict

import orjson
from flask import Response, current_app
from flask_smorest import abort

from api import db, lookups
from api.caching import per_version
from models.growth import change, delineation_caveats, in_units
from models.observation import INDICATORS, national_totals
from schemas.common import figure


@per_version
def national(dataset: str, indicator: str, industry: str = "ALL", partner: str = "WLD") -> tuple[dict, str]:
    """National totals per year for a dataset, and what they are (remembered per data version)."""
    nation, parts = national_totals(dataset, indicator, industry, partner)
    rows = db.session.execute(nation).all()
    if rows:
        return {y: total for y, total, _ in rows}, f"the United States row of {dataset}"
    rows = db.session.execute(parts).all()
    return {y: total for y, total, _ in rows}, (
        f"the sum of every place in {dataset} (for ITA: all metros and the unallocated rows, which together make "
        f"the national total)")


def express(rows, units: str, base_year: int | None, year_from: int | None = None,
            year_to: int | None = None) -> tuple[list[dict], list[dict]]:
    """Points from `year_from` to `year_to` in `units` (the source figure kept as `level`), and the denominators
    or bases used. `rows` is the whole series: a change or an index may need years outside the range."""
    first, last = year_from or 0, year_to or 9999
    groups = defaultdict(list)
    fields = rows[0]._fields if rows else ()
    for row in rows:
        point = dict(zip(fields, row))  # a fifth of Row._asdict()'s cost (measured)
        groups[point["dataset_id"], point["indicator"], point.get("industry", "ALL"),
               point.get("partner", "WLD")].append(point)
    points, notes = [], []
    for (dataset, indicator, industry, partner), members in groups.items():
        levels = {p["year"]: p["value"] for p in members}
        totals, definition = national(dataset, indicator, industry, partner) if units == "share" else (None, None)
        values, reason = in_units(levels, units, base_year, totals)
        note = {"dataset": dataset, "indicator": indicator, "industry": industry, "units": units, "reason": reason}
        if units == "share":
            note.update(denominator=definition,
                        denominator_values={y: totals.get(y) for y in levels if first <= y <= last})
        if units == "index":
            note.update(base_year=base_year, base_value=levels.get(base_year))
        notes.append(note)
        for point in members:
            if first <= point["year"] <= last:
                point.update(level=point["value"], value=values[point["year"]])
                points.append(point)
    return points, notes


def series_response(geography: dict, rows, sources: list[dict], args: dict, extra: tuple[str, ...] = ()) -> Response:
    """A series body (schemas.common.SeriesSchema) built from Core rows and encoded with orjson: the hot path,
    without ORM objects or a marshmallow dump."""
    points, basis = express(rows, args["units"], args.get("base_year"), args.get("from_"), args.get("to"))
    for note in basis:
        if "denominator_values" in note:
            note["denominator_values"] = {str(y): figure(v) for y, v in note["denominator_values"].items()}
        if "base_value" in note:
            note["base_value"] = figure(note["base_value"])
    body = {
        "geography": geography,
        "indicators": lookups.indicators(p["indicator"] for p in points),
        "sources": sources,
        "units": args["units"],
        "units_basis": basis,
        "data": [{"year": p["year"], "value": figure(p["value"]), "status": p["status"], "dataset": p["dataset_id"],
                  "indicator": p["indicator"], "level": figure(p["level"]), **{k: p[k] for k in extra}}
                 for p in points],
    }
    return current_app.response_class(orjson.dumps(body), mimetype="application/json")


def growth(geography, rows, start: int, end: int, industry: str = "ALL", delineations: bool = False) -> dict:
    """The change of one place's series between two years, with its sources and caveats."""
    figures = {}
    for r in rows:
        if r.year in figures and figures[r.year].value != r.value:
            abort(400, messages={"query": {"dataset": [
                f"several datasets give a figure for {r.year}: choose one with dataset="]}})
        figures[r.year] = r
    result = change({y: r.value for y, r in figures.items()}, start, end, {y: r.status for y, r in figures.items()})
    used = sorted({figures[y].dataset_id for y in (start, end) if y in figures})
    caveats = delineation_caveats(start, end) if delineations else []
    if len(used) > 1:
        caveats.append(f"The start and end figures come from different datasets ({', '.join(used)}).")
    indicator = next(iter(figures.values())).indicator if figures else "exports_goods"
    return {"geography": geography, "indicator": vars(INDICATORS[indicator]), "industry": industry,
            "sources": lookups.sources(used or {r.dataset_id for r in rows}), "change": result, "caveats": caveats}
