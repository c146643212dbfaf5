"""Statistics over many places: rankings, the national summary, concentration."""

from flask.views import MethodView
from flask_smorest import abort

from api import db, lookups, partners
from api.caching import cached
from api.formats import csv_columns, encoded
from api.problems import Blueprint
from models import figures
from models.observation import INDICATORS
from models.stats import concentration, ranking_body, summary
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


@blp.route("/rankings/metros")
class MetroRankings(MethodView):
    @blp.arguments(MetroRankingArgs(), location="query")
    @cached
    @blp.response(200, RankingSchema)
    @csv_columns(*RANKED_COLUMNS)
    def get(self, args):
        """Rank metros by exports, share of the national total, growth or CAGR"""
        if "as_of" in args:
            found, used, totals = partners.metro_places(args, years_of(args))
            return encoded(ranking_body(args, [p for p in found if args.get("type") in (None, p.metro_type)],
                                        lookups.sources(used), INDICATORS["exports_goods"], "ALL", totals))
        snapshot, dataset = db.snapshot(), lookups.source(args.get("dataset", "ita-metro-exports")).id
        indicator = lookups.exports_indicator(dataset)
        found = [p for p in figures.places(snapshot, dataset, indicator, ("metro",))
                 if args.get("type") in (None, p.metro_type)]
        totals = lookups.denominators(dataset, indicator, "ALL", "WLD") if args["by"] == "share" else None
        changes = (figures.changes(snapshot, dataset, indicator, ("metro",), args["from_"], args["to"])
                   if args["by"] in ("growth", "cagr") else None)
        return encoded(ranking_body(args, found, lookups.sources([dataset]), INDICATORS[indicator], "ALL", totals,
                                    changes))


@blp.route("/rankings/states")
class StateRankings(MethodView):
    @blp.arguments(StateRankingArgs(), location="query")
    @cached
    @blp.response(200, RankingSchema)
    @csv_columns(*RANKED_COLUMNS)
    def get(self, args):
        """Rank states by exports, share of the national total, growth or CAGR (Census, all years combined)"""
        industry = args["industry"]
        found, used, totals = partners.state_places(args, years_of(args))
        return encoded(ranking_body(args, found, lookups.sources(used), INDICATORS["exports_goods"], industry, totals))


@blp.route("/stats/summary")
class Summary(MethodView):
    @blp.arguments(SummaryArgs(), location="query")
    @cached
    @blp.response(200, SummarySchema)
    def get(self, args):
        """All metros in a year against a base year, with and without ITA's unallocated rows"""
        dataset, year, base_year = lookups.source(args["dataset"]).id, args["year"], args["base_year"]
        indicator = lookups.exports_indicator(dataset)
        found = figures.places(db.snapshot(), dataset, indicator, ("metro", "unallocated"))
        for asked, name in ((year, "year"), (base_year, "base_year")):
            if all(p.value(asked) is None for p in found):
                abort(400, messages={"query": {name: [f"{dataset} has no figures for {asked}"]}})
        return summary(found, year, base_year, args["threshold"], lookups.denominators(dataset, indicator, "ALL", "WLD"),
                       dataset, lookups.sources([dataset]))


@blp.route("/stats/concentration")
class Concentration(MethodView):
    @blp.arguments(ConcentrationArgs(), location="query")
    @cached
    @blp.response(200, ConcentrationSchema)
    def get(self, args):
        """The largest metros by an indicator: their share of land area, population, GDP and exports"""
        snapshot, year, rank_by = db.snapshot(), args["year"], args["rank_by"]
        body = concentration(figures.measures(snapshot, year), figures.metros(snapshot), rank_by, year, args["top"],
                             lookups.sources)
        if body is None:
            abort(400, messages={"query": {"year": [f"no {rank_by} figures for metros in {year}"]}})
        return body
