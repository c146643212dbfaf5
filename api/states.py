"""States, DC and territories: their exports by industry and their metros."""

from flask.views import MethodView

from api import db, lookups
from api.caching import cached
from api.formats import csv_columns, encoded
from api.pagination import paginate
from api.problems import Blueprint
from models import Geography, Observation, figures
from models.geography import metro_count, metros, states
from models.observation import EXPORTS, WORLD, coverage, series, with_industry_titles
from models.series import growth_body, panel, series_body
from models.stats import Per
from models.territory import scope_of
from models.vintages import sole_releases
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
                        "partner", "year", "value", "status", "units", "level", "note")


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
        """Get a state's annual exports, all industries or by NAICS code or level"""
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
    """The figures a state exports request asks for, and its per= denominator; 400 when they are none because the
    request is wrong: an industry that does not exist, a dataset without state figures (ITA's), a partner the
    states have no figures for."""
    dataset = lookups.source(args["dataset"]).id if "dataset" in args else None
    lookups.industries(args.get("industry", []))
    partner = lookups.partners([args["partner"]])[0]
    per = lookups.per(args["per"], "exports_goods", "state") if "per" in args else None
    query = series([p.id for p in places], EXPORTS, dataset, industries=args.get("industry", ["ALL"]),
                   naics_level=args.get("naics_level") or None, partner=partner)
    rows = db.session.execute(with_industry_titles(combined(query, dataset))).all()
    if not rows and dataset is not None:
        lookups.covers(dataset, EXPORTS, ("state",), "exports")
    if not rows and partner != WORLD:
        lookups.partner(partner, places, dataset)
    return rows, per


def combined(query, dataset: str | None):
    """A query over every dataset reads only those that are the sole release of their series (models.vintages)."""
    return query if dataset is not None else query.where(Observation.dataset_id.in_(sole_releases()))


def state_series(geo: Geography, rows, args: dict, per: Per | None) -> dict:
    """A state's series: its Census files make one series unless dataset= names one; shares are of the sum of the
    states of its territory (figures.states_total), the same basis in every year."""
    scope = scope_of(geo.territory)
    return series_body(
        geo.place, rows, lookups.sources([*(r.dataset_id for r in rows), *([per.dataset] if per else [])]), args,
        lambda *key: figures.states_total(db.snapshot(), *key, scope and scope.id),
        extra=("industry", "industry_title", "partner"), combined="dataset" not in args, per=per)


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
        geo, snapshot = lookups.state(code), db.snapshot()
        datasets = [lookups.source(args["dataset"]).id] if "dataset" in args else figures.state_datasets(snapshot)
        lookups.industries([args["industry"]])
        lookups.years(args, figures.state_years(snapshot, tuple(datasets), args["industry"]),
                      args.get("dataset", "state exports"), span=True)
        query = series(geo.id, EXPORTS, args.get("dataset"), industries=[args["industry"]])
        rows = db.session.execute(combined(query, args.get("dataset"))).all()
        return growth_body(geo, rows, args["from_"], args["to"], lookups.sources, args["industry"])
