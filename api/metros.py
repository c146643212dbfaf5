"""Metropolitan and micropolitan areas (CBSAs), their exports and indicators."""

from flask.views import MethodView
from sqlalchemy import Select

from api import db, lookups
from api.caching import cached
from api.formats import csv_columns, encoded
from api.pagination import paginate
from api.problems import Blueprint
from models import figures
from models.geography import metros
from models.observation import EXPORTS, INDICATORS, METRO_EXPORTS, coverage, series, sorted_metros, with_exports
from models.plan import plans_of
from models.series import growth_body, panel, series_body
from models.stats import Per
from schemas.common import FormatArgs, SeriesPanelSchema, SeriesSchema
from schemas.places import (
    IndicatorArgs,
    MetroDetailSchema,
    MetroExportsArgs,
    MetroPageSchema,
    MetroQueryArgs,
    MetrosExportsArgs,
    MetrosIndicatorsArgs,
)
from schemas.stats import GrowthArgs, GrowthSchema

blp = Blueprint("metros", __name__, url_prefix="/v1/metros", description="Metropolitan and micropolitan areas.")

SERIES_COLUMNS = ("geography.code", "geography.name", "dataset", "indicator", "year", "value", "status", "units",
                  "level")


@blp.route("")
class Metros(MethodView):
    @blp.arguments(MetroQueryArgs(), location="query")
    @cached
    @blp.response(200, MetroPageSchema)
    @csv_columns("code", "name", "type", "states", "delineation", "current", "exports.year", "exports.value",
                 "exports.status")
    def get(self, args):
        """List and search metros"""
        state = lookups.state(args["state"], "state").id if "state" in args else None
        if args["sort"].endswith("exports"):
            lookups.years(args, figures.years(db.snapshot(), "ita-metro-exports", "exports_goods", ("metro",)),
                          "ita-metro-exports", latest=("year",))
        year = args.get("year")
        query = sorted_metros(metros(args.get("q"), state, args.get("type"), args.get("current")), args["sort"], year)
        body, headers = paginate(query, args["page"], args["page_size"], scalars=year is None)
        if year is not None:
            body["data"] = [with_exports(row, year) for row in body["data"]]
        return body, headers


@blp.route("/<code>")
class Metro(MethodView):
    @blp.arguments(FormatArgs(), location="query")
    @blp.alt_response(404, response="NOT_FOUND")
    @cached
    @blp.response(200, MetroDetailSchema)
    def get(self, args, code):
        """Get a metro: principal states, land area, titles by delineation, datasets available"""
        geo = lookups.metro(code)
        geo.datasets = db.session.execute(coverage(geo.id)).mappings().all()
        geo.export_plans = db.session.scalars(plans_of(geo.id)).all()
        return geo


@blp.route("/<code>/exports")
class MetroExports(MethodView):
    @blp.arguments(MetroExportsArgs(), location="query")
    @blp.alt_response(404, response="NOT_FOUND")
    @cached
    @blp.response(200, SeriesSchema)
    @csv_columns(*SERIES_COLUMNS)
    def get(self, args, code):
        """Get a metro's annual exports (a suppressed year is null with its status, never 0)"""
        rows = db.connection().execute(METRO_EXPORTS, {"code": code, "dataset": args["dataset"]}).all()
        if not rows:
            lookups.metro(code)  # a 404 with a hint
        geography = {"kind": rows[0].kind, "code": rows[0].code, "name": rows[0].name}
        sources, per = exports_of(args, rows[0].dataset_id is not None, (geography["kind"],))
        return encoded(series_body(geography, [r for r in rows if r.dataset_id], sources, args, lookups.denominators,
                                   per=per))


@blp.route("/exports")
class MetrosExports(MethodView):
    @blp.arguments(MetrosExportsArgs(), location="query")
    @cached
    @blp.response(200, SeriesPanelSchema)
    @csv_columns(*SERIES_COLUMNS, rows="series.data")
    def get(self, args):
        """Get the annual exports of several metros, one series each"""
        places = lookups.metros(args["code"])
        rows = db.session.execute(series([p.id for p in places], EXPORTS, args["dataset"])).all()
        sources, per = exports_of(args, bool(rows), tuple({p.kind for p in places}))
        return encoded(panel(places, rows, lambda place, found: series_body(
            place.place, found, sources, args, lookups.denominators, per=per)))


def exports_of(args: dict, found: bool, kinds: tuple[str, ...]) -> tuple[list, Per | None]:
    """The sources of an exports request about places of `kinds` (metro, unallocated) and its per= denominator; 400
    naming `dataset` if nothing was found because the dataset has no exports of such places (a Census dataset asked
    of a metro)."""
    source = lookups.source(args["dataset"])
    if not found:
        lookups.covers(source.id, EXPORTS, kinds, "exports")
    if "per" not in args:
        return [source], None
    per = lookups.per(args["per"], lookups.exports_indicator(source.id), kinds[0])
    return lookups.sources([source.id, per.dataset]), per


@blp.route("/<code>/indicators")
class MetroIndicators(MethodView):
    @blp.arguments(IndicatorArgs(), location="query")
    @blp.alt_response(404, response="NOT_FOUND")
    @cached
    @blp.response(200, SeriesSchema)
    @csv_columns(*SERIES_COLUMNS)
    def get(self, args, code):
        """Get a metro's population, real GDP, jobs and other indicators"""
        geo = lookups.metro(code)
        rows = db.session.execute(indicators_of(args, [geo])).all()
        return encoded(series_body(geo.place, rows, lookups.sources(r.dataset_id for r in rows), args,
                                   lookups.denominators))


@blp.route("/indicators")
class MetrosIndicators(MethodView):
    @blp.arguments(MetrosIndicatorsArgs(), location="query")
    @cached
    @blp.response(200, SeriesPanelSchema)
    @csv_columns(*SERIES_COLUMNS, rows="series.data")
    def get(self, args):
        """Get the population, real GDP, jobs and other indicators of several metros, one series each"""
        places = lookups.metros(args["code"])
        rows = db.session.execute(indicators_of(args, places)).all()
        return encoded(panel(places, rows, lambda place, found: series_body(
            place.place, found, lookups.sources(r.dataset_id for r in found), args, lookups.denominators)))


def indicators_of(args: dict, places: list) -> Select:
    """The query of an indicators request; 400 naming `dataset` if the dataset has none of them for metros."""
    names = args.get("name") or [n for n in INDICATORS if n not in EXPORTS]
    if "dataset" in args:
        lookups.covers(lookups.source(args["dataset"]).id, names, tuple({p.kind for p in places}), "indicator")
    return series([p.id for p in places], names, args.get("dataset"))


@blp.route("/<code>/growth")
class MetroGrowth(MethodView):
    @blp.arguments(GrowthArgs(), location="query")
    @blp.alt_response(404, response="NOT_FOUND")
    @cached
    @blp.response(200, GrowthSchema)
    def get(self, args, code):
        """Get the growth of a metro's exports between two years: change, percent change, CAGR"""
        geo = lookups.metro(code)
        dataset = lookups.source(args.get("dataset", "ita-metro-exports")).id
        indicator = lookups.exports_indicator(dataset)
        lookups.years(args, figures.years(db.snapshot(), dataset, indicator, ("metro", "unallocated")), dataset,
                      span=True)
        rows = db.session.execute(series(geo.id, EXPORTS, dataset)).all()
        return growth_body(geo, rows, args["from_"], args["to"], lookups.sources, delineations=True)
