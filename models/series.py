"""One place's series in the units a client asks for (level, year-on-year change, percent change, index, share of
the nation), and its growth between two years: the bodies the API answers with (series are encoded as they are:
tests/test_contract.py checks them against schemas.common.SeriesSchema)."""

from collections import defaultdict
from collections.abc import Callable, Iterable
from operator import itemgetter

import us

from models.growth import change, delineation_caveats, in_units, ratio
from models.observation import ALL_INDUSTRIES, INDICATORS, WORLD, AmbiguousDataset, figure
from models.stats import Per

# (dataset, indicator, industry, partner) → the national totals a share divides by (models.figures.national)
Denominators = Callable[[str, str, str, str], object]


def indicators(names: Iterable[str]) -> list:
    return [INDICATORS[n] for n in sorted(set(names)) if n in INDICATORS]


def express(rows, units: str, base_year: int | None, year_from: int | None, year_to: int | None,
            denominators: Denominators, combined: bool = False, per: Per | None = None,
            code: str | None = None) -> tuple[list[dict], list[dict]]:
    """Points from `year_from` to `year_to` in `units` (the source figure kept as `level`), and the denominators
    or bases used. `rows` is the whole series: a change or an index may need years outside the range. `per`: each
    figure divided first by the place's (`code`) figure of another indicator in the same year.

    `combined`: the datasets make one series (a state's Census files, each covering its own years), so a change or
    an index runs across them, each point keeping its dataset; AmbiguousDataset if two give one year different
    figures. A value that cannot be computed from its year's figure is null with status not_available and the
    reason as its note.
    """
    first, last = year_from or 0, year_to or 9999
    groups = defaultdict(list)
    fields = rows[0]._fields if rows else ()
    for row in rows:
        point = dict(zip(fields, row))  # a fifth of Row._asdict()'s cost (measured)
        groups[None if combined else point["dataset_id"], point["indicator"], point.get("industry", ALL_INDUSTRIES),
               point.get("partner", WORLD)].append(point)
    points, notes = [], []
    for (_, indicator, industry, partner), members in groups.items():
        members.sort(key=itemgetter("year"))  # stable: a combined series in year order, each dataset's in its own
        levels, statuses, datasets = {}, {}, {}
        for p in members:
            if levels.get(p["year"], p["value"]) != p["value"]:
                raise AmbiguousDataset(f"several datasets give a figure for {p['year']}: choose one with dataset=")
            levels[p["year"]], statuses[p["year"]], datasets[p["year"]] = p["value"], p["status"], p["dataset_id"]
        used = list(dict.fromkeys(datasets[y] for y in sorted(datasets)))
        totals = ({d: denominators(d, indicator, industry, partner) for d in used} if units == "share" else None)
        ratios = levels if per is None else {y: ratio(v, per.value(code, y)) for y, v in levels.items()}
        values, reason, reasons = in_units(
            ratios, units, base_year, totals and {y: totals[d].values.get(y) for y, d in datasets.items()}, statuses,
            totals and {y: totals[d].reasons[y] for y, d in datasets.items() if y in totals[d].reasons})
        if per is not None and reason is None and all(v is None for v in values.values()):
            reason = f"no {per.indicator} figure in {per.dataset} for the years of the series"
        note = {"dataset": used[0], "datasets": used, "indicator": indicator, "industry": industry, "units": units,
                "reason": reason}
        if per is not None:
            note.update(per=per.indicator, per_dataset=per.dataset, per_values={
                str(y): figure(per.value(code, y)) for y in levels if first <= y <= last})
        if totals:
            note.update(denominator="; ".join(dict.fromkeys(t.definition for t in totals.values())),
                        denominator_values={str(y): figure(totals[datasets[y]].values.get(y))
                                            for y in levels if first <= y <= last})
        if units == "index":
            note.update(base_year=base_year, base_value=figure(levels.get(base_year)))
        notes.append(note)
        for point in members:
            if first <= point["year"] <= last:
                point.update(level=point["value"], value=values[point["year"]])
                if point["year"] in reasons:
                    point.update(status="not_available", note=reasons[point["year"]])
                points.append(point)
    return points, notes


def series_body(geography: dict, rows, sources: list, args: dict, denominators: Denominators,
                extra: tuple[str, ...] = (), combined: bool = False, per: Per | None = None) -> dict:
    """A series as the API answers it (schemas.common.SeriesSchema): its points in args["units"] between args["from_"]
    and args["to"], with the place, indicators, sources and the basis of the units; `extra` columns of the rows are
    kept on each point (a state's industry and partner); `combined` as in express(); `per`: each figure per unit
    of another indicator."""
    points, basis = express(rows, args["units"], args.get("base_year"), args.get("from_"), args.get("to"),
                            denominators, combined, per, geography["code"])
    return {
        "geography": geography,
        "indicators": indicators(p["indicator"] for p in points),
        "sources": sources,
        "units": args["units"],
        "units_basis": basis,
        **({"caveats": per.caveats()} if per else {}),
        "data": [{"year": p["year"], "value": figure(p["value"]), "status": p["status"], "dataset": p["dataset_id"],
                  "indicator": p["indicator"], "level": figure(p["level"]), "note": p.get("note"),
                  **{k: p[k] for k in extra}}
                 for p in points],
    }


def panel(places: list, rows, body: Callable) -> dict:
    """One series per place, in the order of `places` (Geography): `body(place, its rows)` builds each from the rows
    of all of them (each row with its geography_id)."""
    grouped = defaultdict(list)
    for row in rows:
        grouped[row.geography_id].append(row)
    return {"series": [body(place, grouped[place.id]) for place in places]}


def lineage(place: dict, current: bool | None, successor: dict | None, dataset: str | None, empty: bool,
            path: str, filed: Callable[[], Iterable] = tuple) -> dict:
    """What a metro series (/v1/metros/{code}/`path`) says of its code: the successor of a retired CBSA (null
    otherwise), and, for a series with no figures (in `dataset`, or in any), why (a hint), naming the retired codes
    the source files the area under instead (`filed()`: code, name; asked only then)."""
    body = {"successor": successor}
    if not empty:
        return body
    where = f"{dataset + ' has no' if dataset else 'No dataset has'} figures under {place['code']} ({place['name']})"
    if successor is not None:
        body["hint"] = (f"{where}: the code was retired, and the sources file the area under its successor "
                        f"{successor['code']} ({successor['name']}), the current CBSA holding most of its land: "
                        f"/v1/metros/{successor['code']}/{path}")
    elif current is False:
        body["hint"] = (f"{where}: the code was retired, and no current CBSA holds most of its land "
                        f"(/v1/metros/{place['code']} lists its successions).")
    elif instead := filed():
        query = f"?dataset={dataset}" if dataset else ""
        body["hint"] = f"{where}: " + "; ".join(
            f"the source files the area under the retired code {c} ({n}), whose successor this CBSA is: "
            f"/v1/metros/{c}/{path}{query}" for c, n in instead)
    else:
        body["hint"] = f"{where}."
    return body


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


FIFTY = {s.fips for s in us.STATES}
NATION = {"kind": "nation", "code": "US", "name": "United States"}


def territory(fips: set[str], unallocated: list[str], metros: bool) -> str:
    """The territory places cover, in words: their states (by FIPS code; a CBSA's principal states) and unallocated
    rows, e.g. 'CBSAs in the 50 states, DC and Puerto Rico; and 4 unallocated rows (…)'."""
    covered = fips & FIFTY
    if covered == FIFTY:
        states = "the 50 states"
    elif len(covered) >= 40:
        states = "the 50 states but " + ", ".join(sorted(us.states.lookup(f).abbr for f in FIFTY - covered))
    else:
        states = ", ".join(sorted(us.states.lookup(f).abbr for f in covered)) or "no state"
    others = sorted(us.states.lookup(f).name for f in fips - FIFTY if us.states.lookup(f))
    names = [states, *others]
    text = ("CBSAs in " if metros else "") + (", ".join(names[:-1]) + " and " + names[-1] if len(names) > 1 else
                                              names[0])
    if unallocated:
        text += f"; and {len(unallocated)} unallocated row(s) ({', '.join(unallocated)})"
    return text


def nation_body(nation, sources: list, args: dict, denominators: Denominators) -> dict:
    """The national series of a dataset (schemas.places.NationSeriesSchema): a series of the United States, and its
    basis: the dataset's own United States row or the sum of its places, and the territory they cover."""
    body = series_body(NATION, list(nation.rows), sources, args, denominators)
    years = [y for y in nation.places_with_figure if args.get("from_", 0) <= y <= args.get("to", 9999)]
    body["basis"] = {"dataset": nation.dataset, "method": nation.method, "definition": nation.definition,
                     "territory": nation.territory, "places": dict(nation.places),
                     "places_with_figure": {str(y): nation.places_with_figure[y] for y in years},
                     "sum_of_places": {str(y): figure(nation.sum_of_places[y]) for y in years}}
    return body
