"""Statistics over many places: rankings, the national summary, concentration."""

from flask.views import MethodView
from flask_smorest import abort

from api import db, lookups, partners
from api.caching import cached
from api.formats import csv_columns, encoded
from api.pagination import page_of
from api.problems import Blueprint
from models import figures
from models.observation import INDICATORS
from models.stats import RANK_BY, concentration, ranking_body, summary
from models.territory import SCOPES, universe
from schemas.stats import (
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


def years_of(args: dict) -> tuple[int, ...]:
    return (args["year"],) if args["by"] in ("value", "share") else (args["from_"], args["to"])


def default_years(args: dict, available: tuple[int, ...], what: str) -> None:
    """A ranking's year (the latest), or from and to (the first and the last), where the request leaves them out."""
    if args["by"] in ("value", "share"):
        lookups.years(args, available, what, latest=("year",), checked=("year",))
    else:
        lookups.years(args, available, what, span=True, checked=("from_", "to"), strict=True)


def page(body: dict, args: dict):
    """A ranking body with its page meta, and its Link and X-Total-Count headers."""
    meta, headers = page_of(body["ranked"], args["page"], args["page_size"])
    return encoded({**body, "meta": meta}), headers


@blp.route("/rankings/metros")
class MetroRankings(MethodView):
    @blp.arguments(MetroRankingArgs(), location="query")
    @cached
    @blp.response(200, RankingSchema)
    @csv_columns(*RANKED_COLUMNS)
    def get(self, args):
        """Rank metros by exports, share of the national total, growth or CAGR"""
        snapshot = db.snapshot()
        dataset = (partners.releases(args, "ita-metro-exports")[1][0] if "as_of" in args else  # the newest by then
                   lookups.source(args.get("dataset", "ita-metro-exports")).id)
        indicator = lookups.exports_indicator(dataset)
        default_years(args, figures.years(snapshot, dataset, indicator, ("metro",)), dataset)
        state = lookups.state(args["state"], "state").code if "state" in args else None
        principal = figures.principal_states(snapshot)
        found = [p for p in figures.places(snapshot, dataset, indicator, ("metro",))
                 if args.get("type") in (None, p.metro_type) and (state is None or state in principal.get(p.code, ()))]
        totals = lookups.denominators(dataset, indicator, "ALL", "WLD") if args["by"] == "share" else None
        changes = (figures.changes(snapshot, dataset, indicator, ("metro",), args["from_"], args["to"])
                   if args["by"] in ("growth", "cagr") else None)
        per = lookups.per(args["per"], indicator, "metro") if "per" in args else None
        return page(ranking_body(args, found, lookups.sources([dataset, *([per.dataset] if per else [])]),
                                 INDICATORS[indicator], "ALL", totals, changes, per), args)


@blp.route("/rankings/states")
class StateRankings(MethodView):
    @blp.arguments(StateRankingArgs(), location="query")
    @cached
    @blp.response(200, RankingSchema)
    @csv_columns(*RANKED_COLUMNS)
    def get(self, args):
        """Rank states by exports, share of the national total, growth or CAGR (Census, all years combined)"""
        industry = args["industry"]
        lookups.industries([industry])
        default_years(args, *partners.state_years(args))
        per = lookups.per(args["per"], "exports_goods", "state") if "per" in args else None
        found, used, totals = partners.state_places(args, years_of(args))
        return page(ranking_body(args, found, lookups.sources(used), INDICATORS["exports_goods"], industry, totals,
                                 per=per), args)


@blp.route("/stats/summary")
class Summary(MethodView):
    @blp.arguments(SummaryArgs(), location="query")
    @cached
    @blp.response(200, SummarySchema)
    def get(self, args):
        """All metros in a year against a base year, with and without ITA's unallocated rows"""
        snapshot, dataset = db.snapshot(), lookups.source(args["dataset"]).id
        indicator = lookups.exports_indicator(dataset)
        available = figures.years(snapshot, dataset, indicator, ("metro", "unallocated"))
        lookups.years(args, available, dataset, latest=("year",))
        args.setdefault("base_year", args["year"] - 1)
        lookups.years(args, available, dataset, checked=("year", "base_year"))
        found = figures.places(snapshot, dataset, indicator, ("metro", "unallocated"))
        return summary(found, args["year"], args["base_year"], args["threshold"],
                       lookups.denominators(dataset, indicator, "ALL", "WLD"), dataset, lookups.sources([dataset]))


@blp.route("/stats/concentration")
class Concentration(MethodView):
    @blp.arguments(ConcentrationArgs(), location="query")
    @cached
    @blp.response(200, ConcentrationSchema)
    def get(self, args):
        """The largest metros by an indicator: their share of land area, population, GDP and exports

        The metros are those of the delineation in force for `year` (`universe`), inside `territory`; each share
        divides by the nation's figure over the same territory as its numerator, named in `denominator_definition`.
        """
        snapshot, rank_by, scope = db.snapshot(), args["rank_by"], SCOPES[args["territory"]]
        dataset, available = figures.measure_years(snapshot, RANK_BY.get(rank_by, rank_by))
        lookups.years(args, available, f"{rank_by} of metros ({dataset})", latest=("year",), checked=("year",))
        year = args["year"]
        areas = {a.code: a for a in figures.universe(snapshot, year).areas if a.territory in scope.territories}
        body = concentration(areas, figures.measures(snapshot, year, scope), rank_by, year, args["top"], scope.id,
                             universe(year, scope, len(areas)), lookups.sources)
        if body is None:
            abort(400, messages={"query": {"year": [f"no {rank_by} figures for metropolitan areas in {args['year']}"]}})
        return body
