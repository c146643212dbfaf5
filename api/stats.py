"""Statistics over many places: rankings, the national summary, concentration."""

import orjson
from flask import Response, current_app
from flask.views import MethodView
from flask_smorest import abort
from sqlalchemy import select

from api import db, lookups
from api.caching import cached, per_version
from api.formats import csv_columns
from api.problems import Blueprint
from api.series import national
from models import Geography, Observation
from models.growth import delineation_caveats
from models.observation import EXPORTS, INDICATORS, cross_section
from models.stats import FORMULAS, Place, aggregate, concentration_share, ranking
from models.vintages import sole_releases
from schemas.common import figure
from schemas.stats import (
    TIES,
    ConcentrationArgs,
    ConcentrationSchema,
    MetroRankingArgs,
    RankingSchema,
    StateRankingArgs,
    SummaryArgs,
    SummarySchema,
)

blp = Blueprint("stats", __name__, url_prefix="/v1", description="Rankings, the national summary, concentration.")

RANKED_COLUMNS = ("rank", "code", "name", "value", "start_value", "end_value")


@per_version
def exports_indicator(dataset: str) -> str:
    """The exports indicator a dataset holds (goods, or goods and services)."""
    found = db.session.scalar(select(Observation.indicator).where(
        Observation.dataset_id == dataset, Observation.indicator.in_(EXPORTS)).limit(1))
    if found is None:
        abort(400, messages={"query": {"dataset": [f"dataset '{dataset}' has no exports series"]}})
    return found


def places(rows) -> list[Place]:
    """Group cross-section rows by place. Two datasets giving one place and year different figures is an error."""
    by_code: dict[str, Place] = {}
    for r in rows:
        place = by_code.setdefault(r.code, Place(r.code, r.name))
        if r.year in place.figures and place.figures[r.year] != (r.value, r.status):
            abort(400, messages={"query": {"dataset": [
                f"several datasets give {r.name} figures for {r.year}: choose one with dataset="]}})
        place.figures[r.year] = (r.value, r.status)
    return list(by_code.values())


def years_of(args) -> tuple[int, ...]:
    return (args["year"],) if args["by"] in ("value", "share") else (args["from_"], args["to"])


@per_version
def metro_places(dataset: str, indicator: str, years: tuple[int, ...], metro_type: str | None) -> list[Place]:
    """Every metro's figures in some years (remembered per data version: rankings differ in much else)."""
    query = cross_section(dataset, [indicator], years, ["metro"])
    if metro_type is not None:
        query = query.where(Geography.metro_type == metro_type)
    return places(db.session.execute(query).all())


@per_version
def state_places(datasets: tuple[str, ...], years: tuple[int, ...], industry: str) -> tuple[list[Place], list[str]]:
    """Every state's figures in some years from these datasets, and the datasets that had any."""
    rows = []
    for dataset in datasets:
        rows += db.session.execute(cross_section(dataset, ["exports_goods"], years, ["state"],
                                                 industry=industry)).all()
    return places(rows), sorted({r.dataset_id for r in rows})


@per_version
def state_datasets() -> list[str]:
    return db.session.scalars(select(Observation.dataset_id).distinct().join(
        Geography, Geography.id == Observation.geography_id).where(
        Geography.kind == "state", Observation.indicator == "exports_goods",
        Observation.dataset_id.in_(sole_releases()))).all()


@per_version
def area_figures(dataset: str, indicator: str, years: tuple[int, ...]) -> tuple[dict, dict]:
    """{(kind, year): {code: value}} for metros and ITA's unallocated rows in each of `years` (empty where there is
    no figure), and their names."""
    figures, names = {(kind, y): {} for kind in ("metro", "unallocated") for y in years}, {}
    for r in db.session.execute(cross_section(dataset, [indicator], years, ["metro", "unallocated"])):
        figures[r.kind, r.year][r.code] = r.value
        names[r.code] = r.name
    return figures, names


def rank_response(args, found: list[Place], datasets: list[str], indicator: str, industry: str = "ALL") -> Response:
    """A ranking body (schemas.stats.RankingSchema) encoded with orjson, as series are: the schema's dump was a
    third of an uncached ranking's time (bench/profile_requests.py)."""
    totals, definition = None, None
    if args["by"] == "share":
        totals, definition = national(datasets[0], indicator, industry)
    ranked, excluded, count = ranking(found, args["by"], args.get("year"), args.get("from_"), args.get("to"),
                                      args["min_base"], totals, args["order"] == "desc", args["limit"])
    body = {
        "by": args["by"], "year": args.get("year"), "start_year": args.get("from_"), "end_year": args.get("to"),
        "indicator": vars(INDICATORS[indicator]), "industry": industry, "sources": lookups.sources(datasets),
        "min_base": args["min_base"], "ties": TIES, "formula": FORMULAS[args["by"]], "denominator": definition,
        "ranked": count, "excluded_count": len(excluded),
        "excluded": excluded,
        "caveats": delineation_caveats(args["from_"], args["to"]) if "from_" in args and "to" in args else [],
        "data": [{"rank": r["rank"], "code": r["code"], "name": r["name"], "value": figure(r["value"]),
                  "start_value": figure(r["start_value"]), "end_value": figure(r["end_value"])} for r in ranked],
    }
    return current_app.response_class(orjson.dumps(body), mimetype="application/json")


@blp.route("/rankings/metros")
class MetroRankings(MethodView):
    @blp.arguments(MetroRankingArgs(), location="query")
    @cached
    @blp.response(200, RankingSchema)
    @csv_columns(*RANKED_COLUMNS)
    def get(self, args):
        """Rank metros by exports, share of the national total, growth or CAGR"""
        dataset = args.get("dataset", "ita-metro-exports")
        lookups.source(dataset)
        indicator = exports_indicator(dataset)
        found = metro_places(dataset, indicator, years_of(args), args.get("type"))
        return rank_response(args, found, [dataset], indicator)


@blp.route("/rankings/states")
class StateRankings(MethodView):
    @blp.arguments(StateRankingArgs(), location="query")
    @cached
    @blp.response(200, RankingSchema)
    @csv_columns(*RANKED_COLUMNS)
    def get(self, args):
        """Rank states by exports, share of the national total, growth or CAGR (Census, all years combined)"""
        if "dataset" in args:
            datasets = [lookups.source(args["dataset"])["id"]]
        else:  # every Census dataset with state figures: each covers its own years
            datasets = state_datasets()
        found, used = state_places(tuple(sorted(datasets)), years_of(args), args["industry"])
        return rank_response(args, found, used or datasets, "exports_goods", args["industry"])


@blp.route("/stats/summary")
class Summary(MethodView):
    @blp.arguments(SummaryArgs(), location="query")
    @cached
    @blp.response(200, SummarySchema)
    def get(self, args):
        """All metros in a year against a base year, with and without ITA's unallocated rows"""
        dataset, year, base_year = args["dataset"], args["year"], args["base_year"]
        if base_year > year:
            abort(400, messages={"query": {"base_year": ["must not be after 'year'"]}})
        lookups.source(dataset)
        indicator = exports_indicator(dataset)
        figures, names = area_figures(dataset, indicator, tuple(sorted({year, base_year})))
        for asked, name in ((year, "year"), (base_year, "base_year")):
            if not any(v is not None for kind in ("metro", "unallocated") for v in figures[kind, asked].values()):
                abort(400, messages={"query": {name: [f"{dataset} has no figures for {asked}"]}})
        totals, definition = national(dataset, indicator)
        metros = (figures["metro", year], figures["metro", base_year])
        unallocated = (figures["unallocated", year], figures["unallocated", base_year])
        everything = ({**metros[0], **unallocated[0]}, {**metros[1], **unallocated[1]})
        return {
            "dataset": dataset, "sources": lookups.sources([dataset]), "year": year, "base_year": base_year,
            "threshold": args["threshold"], "national_total": totals.get(year), "national_total_definition": definition,
            "metros_only": aggregate(*metros, year, base_year, args["threshold"], totals.get(year),
                                     "CBSAs only: ITA's unallocated rows left out"),
            "with_unallocated": aggregate(*everything, year, base_year, args["threshold"], totals.get(year),
                                          "CBSAs and ITA's unallocated rows (crossovers, non-metro, other metro, "
                                          "unknown): the national total"),
            "unallocated": [{"code": c, "name": names[c], "value": unallocated[0].get(c),
                             "base_value": unallocated[1].get(c)} for c in sorted(set(unallocated[0]) |
                                                                                  set(unallocated[1]))],
            "caveats": delineation_caveats(base_year, year),
        }


CONCENTRATION_SOURCES = {"population": "census-population-2019", "real_gdp": "metro-monitor-2021",
                         "jobs": "metro-monitor-2021", "exports_goods": "ita-metro-exports"}


def measure(indicator: str, year: int) -> tuple[dict[str, float | None], float | None, str, str | None]:
    """Every metro's figure for a measure, the national denominator, what it is, and the dataset."""
    if indicator == "land_area":
        rows = db.session.execute(select(Geography.code, Geography.land_area_m2).where(
            Geography.kind == "metro")).all()
        values = {code: area for code, area in rows}
        return values, sum(v for v in values.values() if v), (
            "land area of every CBSA in the store (TIGER 2015 layer, else 2009): the sources give no national land "
            "area, so this is a share of CBSA land, metro and micro"), None
    dataset = CONCENTRATION_SOURCES[indicator]
    values = {r.code: r.value for r in db.session.execute(cross_section(dataset, [indicator], [year], ["metro"]))}
    nation = db.session.execute(cross_section(dataset, [indicator], [year], ["nation"])).first()
    if nation is not None:
        return values, nation.value, f"the United States row of {dataset}", dataset
    totals, definition = national(dataset, indicator)
    return values, totals.get(year), definition, dataset


@blp.route("/stats/concentration")
class Concentration(MethodView):
    @blp.arguments(ConcentrationArgs(), location="query")
    @cached
    @blp.response(200, ConcentrationSchema)
    def get(self, args):
        """The largest metros by an indicator: their share of land area, population, GDP and exports"""
        year, top = args["year"], args["top"]
        values, _, _, dataset = measure(args["rank_by"], year)
        metros = set(db.session.scalars(select(Geography.code).where(
            Geography.kind == "metro", Geography.metro_type == "metropolitan")))
        candidates = [(code, v) for code, v in sorted(values.items()) if v is not None and code in metros]
        if not candidates:
            abort(400, messages={"query": {"year": [f"no {args['rank_by']} figures for metros in {year}"]}})
        leaders = sorted(candidates, key=lambda kv: -kv[1])[:top]
        names = dict(db.session.execute(select(Geography.code, Geography.name).where(
            Geography.code.in_([c for c, _ in leaders]), Geography.kind == "metro")).all())
        members = [c for c, _ in leaders]
        shares, used = [], {dataset} - {None}
        for name in ("land_area", "population", "real_gdp", "exports_goods"):
            figures, denominator, definition, source = measure(name, year)
            top_total, pct, missing, reason = concentration_share(members, figures, denominator)
            shares.append({"measure": name, "dataset": source, "top_total": top_total, "denominator": denominator,
                           "denominator_definition": definition, "share": pct, "reason": reason,
                           "members_without_figure": missing})
            used |= {source} - {None}
        return {
            "top": top, "rank_by": args["rank_by"], "year": year,
            "universe": f"metropolitan statistical areas with a {args['rank_by']} figure for {year} "
                        f"({len(candidates)})",
            "sources": lookups.sources(used),
            "members": [{"rank": i, "code": c, "name": names.get(c, c), "value": v}
                        for i, (c, v) in enumerate(leaders, start=1)],
            "shares": shares,
        }
