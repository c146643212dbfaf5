"""States, DC and territories: their exports by industry and their metros."""

from flask.views import MethodView

from api import db, lookups, partners
from api.caching import cached
from api.formats import csv_columns, encoded
from api.pagination import paginate
from api.problems import Blueprint
from models import Geography, figures
from models.geography import metro_count, metros, states
from models.observation import EXPORTS, coverage
from models.series import growth_body, panel, series_body
from models.stats import Per
from models.territory import scope_of
from schemas.common import FormatArgs, PageArgs
from schemas.places import (
    MetroPageSchema,
    StateDetailSchema,
    StateExportsArgs,
    StateMetrosArgs,
    StatePageSchema,
    StateSeriesPanelSchema,
    StateSeriesSchema,
    StatesExportsArgs,
)
from schemas.stats import GrowthSchema, StateGrowthArgs

blp = Blueprint("states", __name__, url_prefix="/v1/states", description="States, DC and territories.")

STATE_SERIES_COLUMNS = ("geography.code", "geography.name", "dataset", "indicator", "industry", "industry_title",
                        "partner", "year", "value", "status", "units", "level", "note", "released_on")


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
    @csv_columns(*STATE_SERIES_COLUMNS)
    def get(self, args, code):
        """Get a state's annual exports, all industries or by NAICS code or level, to the world or a partner"""
        geo = lookups.state(code)
        rows, per = exports_of(args, [geo])
        return encoded(state_series(geo, rows, args, per))


@blp.route("/exports")
class StatesExports(MethodView):
    @blp.arguments(StatesExportsArgs(), location="query")
    @cached
    @blp.response(200, StateSeriesPanelSchema)
    @csv_columns(*STATE_SERIES_COLUMNS, rows="series.data")
    def get(self, args):
        """Get the annual exports of several states, one series each"""
        places = lookups.states(args["code"])
        rows, per = exports_of(args, places)
        return encoded(panel(places, rows, lambda place, found: state_series(place, found, args, per)))


def exports_of(args: dict, places: list) -> tuple[list, Per | None]:
    """The figures a state exports request asks for (api.partners.state_figures), and its per= denominator; 400 when
    they are none because the request is wrong: an industry that does not exist, a dataset without state figures
    (ITA's), a partner the states have no figures for in the asked years."""
    lookups.industries(args.get("industry", []))
    per = lookups.per(args["per"], "exports_goods", "state") if "per" in args else None
    rows = partners.state_figures(places, args, args.get("industry", ["ALL"]), args.get("naics_level") or None)
    if not rows and "dataset" in args:
        lookups.covers(args["dataset"], EXPORTS, ("state",), "exports")
    partners.has_figures(rows, places, args)
    return rows, per


def state_series(geo: Geography, rows, args: dict, per: Per | None) -> dict:
    """A state's series: its Census files and the releases of the series by destination make one series unless
    dataset= names one; shares are of the sum of the states of its territory in the dataset of each year
    (figures.states_total), the same basis in every year."""
    scope = scope_of(geo.territory)
    return series_body(
        geo.place, rows, lookups.sources([*(r.dataset_id for r in rows), *([per.dataset] if per else [])]), args,
        lambda *key: figures.states_total(db.snapshot(), *key, scope and scope.id),
        extra=("industry", "industry_title", "partner", "released_on", *(("revisions",) if args["revisions"] else ())),
        combined="dataset" not in args, per=per)


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
        lookups.industries([args["industry"]])
        rows = partners.state_figures([geo], args, [args["industry"]])
        partners.has_figures(rows, [geo], args)
        lookups.years(args, sorted({r.year for r in rows if r.value is not None}), args.get("dataset", "state exports"),
                      span=True)
        return growth_body(geo, rows, args["from_"], args["to"], lookups.sources, args["industry"])
