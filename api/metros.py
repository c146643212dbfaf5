"""Metropolitan and micropolitan areas (CBSAs), their exports and indicators."""

from flask import current_app
from flask.views import MethodView
from sqlalchemy import and_

from api import db, lookups
from api.caching import cached
from api.formats import csv_columns
from api.pagination import paginate
from api.problems import Blueprint
from api.series import express, growth, series_response
from models import Geography, Observation
from models.geography import metros
from models.observation import EXPORTS, INDICATORS, coverage, place_series, series
from models.plan import plans_of
from schemas.common import FormatArgs, SeriesSchema
from schemas.places import IndicatorArgs, MetroDetailSchema, MetroExportsArgs, MetroPageSchema, MetroQueryArgs
from schemas.stats import GrowthArgs, GrowthSchema

blp = Blueprint("metros", __name__, url_prefix="/v1/metros", description="Metropolitan and micropolitan areas.")

SERIES_COLUMNS = ("geography.code", "geography.name", "dataset", "indicator", "year", "value", "status", "units",
                  "level")
ORDER = {"name": Geography.name, "code": Geography.code}


def _with_exports(query, year: int):
    """Add each metro's ITA goods exports in `year` (null when there is no figure)."""
    o = Observation
    return query.add_columns(o.value, o.status).outerjoin(o, and_(
        o.geography_id == Geography.id, o.dataset_id == "ita-metro-exports", o.indicator == "exports_goods",
        o.year == year, o.industry == "ALL", o.partner == "WLD"))


def _attach(geo: Geography, year: int, value, status) -> Geography:
    geo.exports = {"year": year, "value": value, "status": status or "not_available", "dataset": "ita-metro-exports"}
    return geo


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
        query = metros(args.get("q"), state, args.get("type"), args.get("current"))
        key, descending = args["sort"].lstrip("-"), args["sort"].startswith("-")
        year = args.get("year")
        if year is not None:
            query = _with_exports(query, year)
        if key == "exports":
            column = (Observation.value.desc() if descending else Observation.value.asc()).nulls_last()
        else:
            column = ORDER[key].desc() if descending else ORDER[key]
        page = paginate(query.order_by(column, Geography.code), args["page"], args["page_size"], scalars=year is None)
        if year is not None:
            page["data"] = [_attach(geo, year, value, status) for geo, value, status in page["data"]]
        return page


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
        rows = db.connection().execute(place_series(("metro", "unallocated"), EXPORTS),
                                       {"code": code, "dataset": args["dataset"]}).all()
        if not rows:
            lookups.metro(code)  # a 404 with a hint
        if rows[0].store_version is not None:
            current_app.extensions["data_version"].seen(rows[0].store_version)
        source = lookups.source(args["dataset"])
        geography = {"kind": rows[0].kind, "code": rows[0].code, "name": rows[0].name}
        return series_response(geography, [r for r in rows if r.dataset_id], [source], args)


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
        names = args.get("name") or [n for n in INDICATORS if n not in EXPORTS]
        if "dataset" in args:
            lookups.source(args["dataset"])
        rows = db.session.execute(series(geo.id, names, args.get("dataset"))).all()
        points, basis = express(rows, args["units"], args.get("base_year"), args.get("from_"), args.get("to"))
        return {"geography": geo, "indicators": lookups.indicators(r.indicator for r in rows),
                "sources": lookups.sources(r.dataset_id for r in rows), "units": args["units"], "units_basis": basis,
                "data": points}


@blp.route("/<code>/growth")
class MetroGrowth(MethodView):
    @blp.arguments(GrowthArgs(), location="query")
    @blp.alt_response(404, response="NOT_FOUND")
    @cached
    @blp.response(200, GrowthSchema)
    def get(self, args, code):
        """Get the growth of a metro's exports between two years: change, percent change, CAGR"""
        geo = lookups.metro(code)
        dataset = lookups.source(args.get("dataset", "ita-metro-exports"))["id"]
        rows = db.session.execute(series(geo.id, EXPORTS, dataset)).all()
        return growth(geo, rows, args["from_"], args["to"], delineations=True)
