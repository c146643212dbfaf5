"""Metropolitan and micropolitan areas (CBSAs), their exports and indicators."""

from flask import Response, request
from flask.views import MethodView

from api import db, lookups
from api.caching import cached
from api.formats import csv_columns, encoded
from api.pagination import paginate
from api.problems import Blueprint
from models import figures
from models.delineation import history, land, successions, successor
from models.geography import LISTED, metros
from models.observation import EXPORTS, INDICATORS, METRO_EXPORTS, coverage, listed, series, sorted_metros
from models.plan import plans_of
from models.series import growth_body, lineage, series_body
from models.territory import scope_of
from schemas.common import FormatArgs, SeriesSchema
from schemas.places import IndicatorArgs, MetroDetailSchema, MetroExportsArgs, MetroPageSchema, MetroQueryArgs
from schemas.stats import GrowthArgs, GrowthSchema

blp = Blueprint("metros", __name__, url_prefix="/v1/metros", description="Metropolitan and micropolitan areas.")

SERIES_COLUMNS = ("geography.code", "geography.name", "dataset", "indicator", "year", "value", "status", "units",
                  "level", "note")


def shares_of(territory: str | None):
    """The national totals a metro's shares divide by: over the territory the metro is in (models.territory)."""
    scope = scope_of(territory)
    return lambda dataset, indicator, *_: figures.over_territory(db.snapshot(), dataset, indicator, scope and scope.id)


def successor_link(response: Response, heir: dict | None) -> Response:
    """A retired CBSA's answer links the same request about its successor (RFC 8288, rel="successor")."""
    if heir is not None:
        path = request.path.replace(f"/v1/metros/{request.view_args['code']}", f"/v1/metros/{heir['code']}", 1)
        query = f"?{request.query_string.decode()}" if request.query_string else ""
        response.headers["Link"] = f'<{request.host_url.rstrip("/")}{path}{query}>; rel="successor"'
    return response


@blp.route("")
class Metros(MethodView):
    @blp.arguments(MetroQueryArgs(), location="query")
    @cached
    @blp.response(200, MetroPageSchema)
    @csv_columns("code", "name", "type", "states", "delineation", "current", "exports.year", "exports.value",
                 "exports.status")
    def get(self, args):
        """List and search metros

        Every place /v1/metros/{code} answers for: the CBSAs, then the sources' unallocated rows (ITA's four Z- rows,
        Brookings' rest of each state), each kind in `sort` order; `type=` narrows to one kind.
        """
        state = lookups.state(args["state"], "state").id if "state" in args else None
        year = args.get("year")
        query = sorted_metros(metros(args.get("q"), state, args.get("type"), args.get("current"), LISTED),
                              args["sort"], year)
        body, headers = paginate(query, args["page"], args["page_size"], scalars=year is None)
        points = figures.points(db.snapshot())
        body["data"] = [listed(row, year, points) for row in body["data"]]
        return body, headers


@blp.route("/<code>")
class Metro(MethodView):
    @blp.arguments(FormatArgs(), location="query")
    @blp.alt_response(404, response="NOT_FOUND")
    @cached
    @blp.response(200, MetroDetailSchema)
    def get(self, args, code):
        """Get a metro: principal states, land area, titles by delineation, datasets available

        With its definition in each delineation (`history`), the codes it succeeded or that succeeded it
        (`successions`), and for a retired code the current CBSA holding most of its land (`successor`).
        """
        geo = lookups.metro(code)
        geo.datasets = db.session.execute(coverage(geo.id)).mappings().all()
        geo.export_plans = db.session.scalars(plans_of(geo.id)).all()
        geo.history = db.session.scalars(history(geo.id)).all()
        geo.successions = db.session.execute(successions(geo.id)).mappings().all()
        geo.successor = db.session.execute(successor(geo.id)).mappings().first()
        geo.internal_point = figures.points(db.snapshot()).get(geo.id)
        geo.land_area_m2, geo.land_area_delineation = db.session.execute(land(geo.id)).first() or (None, None)
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
        first, figures = rows[0], [r for r in rows if r.dataset_id]
        geography = {"kind": first.kind, "code": first.code, "name": first.name}
        heir = {"kind": "metro", "code": first.successor_code, "name": first.successor_name} if (
            first.successor_code) else None
        body = series_body(geography, figures, [lookups.source(args["dataset"])], args, shares_of(first.territory))
        body.update(lineage(geography, first.current, heir, args["dataset"], not figures, "exports"))
        return successor_link(encoded(body), heir)


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
        heir = db.session.execute(successor(geo.id)).mappings().first()
        body = series_body(geo.place, rows, lookups.sources(r.dataset_id for r in rows), args, shares_of(geo.territory))
        body.update(lineage(geo.place, geo.current, heir and dict(heir), args.get("dataset"), not rows, "indicators"))
        return successor_link(encoded(body), heir)


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
        rows = db.session.execute(series(geo.id, EXPORTS, dataset)).all()
        return growth_body(geo, rows, args["from_"], args["to"], lookups.sources, delineations=True)
