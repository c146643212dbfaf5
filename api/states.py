"""States, DC and territories: their exports by industry and their metros."""

from flask.views import MethodView

from api import db, lookups, partners
from api.caching import cached
from api.formats import csv_columns, encoded
from api.pagination import paginate
from api.problems import Blueprint
from models import Geography
from models.geography import metro_count, metros, states
from models.observation import coverage
from models.series import growth_body, series_body
from schemas.common import FormatArgs, PageArgs
from schemas.places import (
    MetroPageSchema,
    StateDetailSchema,
    StateExportsArgs,
    StateMetrosArgs,
    StatePageSchema,
    StateSeriesSchema,
)
from schemas.stats import GrowthSchema, StateGrowthArgs

blp = Blueprint("states", __name__, url_prefix="/v1/states", description="States, DC and territories.")


@blp.route("")
class States(MethodView):
    @blp.arguments(PageArgs(), location="query")
    @cached
    @blp.response(200, StatePageSchema)
    @csv_columns("fips", "usps", "name")
    def get(self, args):
        """List states, DC and territories"""
        return paginate(states(), args["page"], args["page_size"])


@blp.route("/<code>")
class State(MethodView):
    @blp.arguments(FormatArgs(), location="query")
    @blp.alt_response(404, response="NOT_FOUND")
    @cached
    @blp.response(200, StateDetailSchema)
    def get(self, args, code):
        """Get a state by FIPS (06) or USPS (CA) code"""
        geo = lookups.state(code)
        geo.metros = db.session.scalar(metro_count(geo.id))
        geo.datasets = db.session.execute(coverage(geo.id)).mappings().all()
        return geo


@blp.route("/<code>/exports")
class StateExports(MethodView):
    @blp.arguments(StateExportsArgs(), location="query")
    @blp.alt_response(404, response="NOT_FOUND")
    @cached
    @blp.response(200, StateSeriesSchema)
    @csv_columns("geography.code", "geography.name", "dataset", "indicator", "industry", "industry_title", "partner",
                 "year", "value", "status", "units", "level", "released_on")
    def get(self, args, code):
        """Get a state's annual exports, all industries or by NAICS code or level, to the world or a partner"""
        geo = lookups.state(code)
        rows = partners.state_figures(geo, args, args.get("industry", ["ALL"]), args.get("naics_level") or None,
                                      args["units"] == "share")
        partners.has_figures(rows, geo, args)
        extra = ("industry", "industry_title", "partner", "released_on", *(("revisions",) if args["revisions"] else ()))
        return encoded(series_body(geo.place, rows, lookups.sources(r.dataset_id for r in rows), args,
                                   partners.denominators(args), extra=extra))


@blp.route("/<code>/metros")
class StateMetros(MethodView):
    @blp.arguments(StateMetrosArgs(), location="query")
    @blp.alt_response(404, response="NOT_FOUND")
    @cached
    @blp.response(200, MetroPageSchema)
    @csv_columns("code", "name", "type", "states", "delineation", "current")
    def get(self, args, code):
        """List the metros that have this state among their principal states"""
        geo = lookups.state(code)
        query = metros(state_id=geo.id, type=args.get("type"), current=args.get("current"))
        return paginate(query.order_by(Geography.name, Geography.code), args["page"], args["page_size"])


@blp.route("/<code>/growth")
class StateGrowth(MethodView):
    @blp.arguments(StateGrowthArgs(), location="query")
    @blp.alt_response(404, response="NOT_FOUND")
    @cached
    @blp.response(200, GrowthSchema)
    def get(self, args, code):
        """Get the growth of a state's exports between two years (Census datasets combined unless dataset= is given)"""
        geo = lookups.state(code)
        rows = partners.state_figures(geo, args, [args["industry"]])
        partners.has_figures(rows, geo, args)
        return growth_body(geo, rows, args["from_"], args["to"], lookups.sources, args["industry"])
