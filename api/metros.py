"""Metropolitan and micropolitan areas (CBSAs), their exports and indicators."""

from flask import Response, request
from flask.views import MethodView
from sqlalchemy import Select

from api import db, lookups, partners
from api.caching import cached
from api.formats import csv_columns, encoded
from api.pagination import paginate
from api.problems import Blueprint
from models import figures
from models.delineation import history, land, successions, successor
from models.geography import LISTED, metros
from models.observation import (
    EXPORTS,
    INDICATORS,
    METRO_EXPORTS,
    coverage,
    listed,
    predecessors_filed,
    series,
    sorted_metros,
    with_industry_titles,
)
from models.plan import plans_of
from models.series import growth_body, lineage, panel, series_body
from models.stats import Per
from models.territory import scope_of
from schemas.common import FormatArgs, SeriesPanelSchema, SeriesSchema
from schemas.places import (
    IndicatorArgs,
    MetroDetailSchema,
    MetroExportsArgs,
    MetroPageSchema,
    MetroQueryArgs,
    MetroSeriesPanelSchema,
    MetroSeriesSchema,
    MetrosExportsArgs,
    MetrosIndicatorsArgs,
)
from schemas.stats import GrowthSchema, MetroGrowthArgs

blp = Blueprint("metros", __name__, url_prefix="/v1/metros", description="Metropolitan and micropolitan areas.")

SERIES_COLUMNS = ("geography.code", "geography.name", "dataset", "indicator", "year", "value", "status", "units",
                  "level", "note")
ITA = "ita-metro-exports"  # the series of ITA's editions, and its newest edition: what an exports read takes by default


def shares_of(territory: str | None):
    """The national totals a metro's shares divide by: over the territory the metro is in (models.territory)."""
    scope = scope_of(territory)
    return lambda dataset, indicator, *_: figures.over_territory(db.snapshot(), dataset, indicator, scope and scope.id)


def with_lineage(body: dict, place, dataset: str | None, empty: bool, path: str) -> dict:
    """A metro series body with what it says of its code (models.series.lineage): a retired code's successor, and
    why an empty series is empty."""
    heir = figures.heirs(db.snapshot()).get(place.id)
    body.update(lineage(place.place, place.current, heir and dict(heir), dataset, empty, path,
                        lambda: filed_instead(place.id, dataset)))
    return body


def filed_instead(geography_id: int, dataset: str | None) -> list:
    """The retired codes a dataset files this current CBSA's area under (code, name), for an empty series' hint."""
    return db.connection().execute(predecessors_filed(geography_id, dataset)).all()


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
        if args["sort"].endswith("exports"):
            lookups.years(args, figures.years(db.snapshot(), "ita-metro-exports", "exports_goods", ("metro",)),
                          "ita-metro-exports", latest=("year",))
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
    @blp.response(200, MetroSeriesSchema)
    @csv_columns(*SERIES_COLUMNS)
    def get(self, args, code):
        """Get a metro's annual exports (a suppressed year is null with its status, never 0), as known on a date"""
        if vintaged(args):
            body = exports_panel([lookups.metro(code)], args)["series"][0]
            return successor_link(encoded(body), body["successor"])
        rows = db.connection().execute(METRO_EXPORTS, {"code": code, "dataset": args["dataset"]}).all()
        if not rows:
            lookups.metro(code)  # a 404 with a hint
        first, found = rows[0], [r for r in rows if r.dataset_id]
        geography = {"kind": first.kind, "code": first.code, "name": first.name}
        heir = {"kind": "metro", "code": first.successor_code, "name": first.successor_name} if (
            first.successor_code) else None
        sources, per = exports_of(args, found, (geography["kind"],))
        body = series_body(geography, found, sources, args, shares_of(first.territory), per=per)
        body.update(lineage(geography, first.current, heir, args["dataset"], not found, "exports",
                            lambda: filed_instead(lookups.metro(code).id, args["dataset"])))
        return successor_link(encoded(body), heir)


@blp.route("/exports")
class MetrosExports(MethodView):
    @blp.arguments(MetrosExportsArgs(), location="query")
    @cached
    @blp.response(200, MetroSeriesPanelSchema)
    @csv_columns(*SERIES_COLUMNS, rows="series.data")
    def get(self, args):
        """Get the annual exports of several metros, one series each"""
        return encoded(exports_panel(lookups.metros(args["code"]), args))


def vintaged(args: dict) -> bool:
    """Whether an exports read asks about releases: as known on a date (as_of), or each release's figure."""
    return "as_of" in args or args["revisions"]


def metro_figures(places: list, args: dict) -> list[partners.Point]:
    """Metros' exports as a read about releases takes them (api.partners, as a state's): of the one release
    dataset= names (ita-metro-exports without as_of), else each year from the newest edition of ITA's series
    published by as_of; each with its release date and, with revisions=true, every edition's figure known then."""
    if "dataset" in args:
        return partners.release_points(places, args, with_industry_titles(series([p.id for p in places], EXPORTS,
                                                                                 args["dataset"])), lookups.METRO_KINDS)
    return partners.known_points(places, args, ITA, lookups.METRO_KINDS)


def exports_panel(places: list, args: dict) -> dict:
    """Metros' exports, one series each: of dataset= (ita-metro-exports without as_of), or, asked about releases,
    as metro_figures() reads them (with as_of and no dataset=, one series across the editions it takes; 400 naming
    as_of where none was known)."""
    if vintaged(args):
        rows = metro_figures(places, args)
        partners.has_figures(rows, places, args)
        extra = ("released_on", *(("revisions",) if args["revisions"] else ()))
    else:
        rows, extra = db.session.execute(series([p.id for p in places], EXPORTS, args["dataset"])).all(), ()
    sources, per = exports_of(args, rows, tuple({p.kind for p in places}))
    return panel(places, rows, lambda place, found: with_lineage(series_body(
        place.place, found, sources, args, shares_of(place.territory), extra=extra,
        combined=bool(extra) and "dataset" not in args, per=per), place, args.get("dataset", ITA), not found,
        "exports"))


def exports_of(args: dict, rows: list, kinds: tuple[str, ...]) -> tuple[list, Per | None]:
    """The sources of an exports request about places of `kinds` (metro, unallocated): the datasets its figures come
    from, and its per= denominator; 400 naming `dataset` if nothing was found because the dataset (ITA's series
    with as_of and no dataset=) has no exports of such places (a Census dataset asked of a metro)."""
    source = lookups.source(args.get("dataset", ITA))
    if not rows:
        lookups.covers(source.id, EXPORTS, kinds, "exports")
    used = sorted({r.dataset_id for r in rows}) or [source.id]
    if "per" not in args:
        return lookups.sources(used), None
    per = lookups.per(args["per"], lookups.exports_indicator(source.id), kinds[0])
    return lookups.sources([*used, per.dataset]), per


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
        body = with_lineage(series_body(geo.place, rows, lookups.sources(r.dataset_id for r in rows), args,
                                        shares_of(geo.territory)), geo, args.get("dataset"), not rows, "indicators")
        return successor_link(encoded(body), body["successor"])


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
        return encoded(panel(places, rows, lambda place, found: with_lineage(series_body(
            place.place, found, lookups.sources(r.dataset_id for r in found), args, shares_of(place.territory)),
            place, args.get("dataset"), not found, "indicators")))


def indicators_of(args: dict, places: list) -> Select:
    """The query of an indicators request; 400 naming `dataset` if the dataset has none of them for metros."""
    names = args.get("name") or [n for n in INDICATORS if n not in EXPORTS]
    if "dataset" in args:
        lookups.covers(lookups.source(args["dataset"]).id, names, tuple({p.kind for p in places}), "indicator")
    return series([p.id for p in places], names, args.get("dataset"))


@blp.route("/<code>/growth")
class MetroGrowth(MethodView):
    @blp.arguments(MetroGrowthArgs(), location="query")
    @blp.alt_response(404, response="NOT_FOUND")
    @cached
    @blp.response(200, GrowthSchema)
    def get(self, args, code):
        """Get the growth of a metro's exports between two years: change, percent change, CAGR"""
        geo, snapshot = lookups.metro(code), db.snapshot()
        if "as_of" in args:  # from and to default to the first and last year of the editions known then
            datasets, rows = partners.releases(args, ITA)[1], metro_figures([geo], args)
            partners.has_figures(rows, [geo], args)
        else:
            datasets, rows = (lookups.source(args.get("dataset", ITA)).id,), None
        years = {y for d in datasets for y in figures.years(snapshot, d, lookups.exports_indicator(d),
                                                                lookups.METRO_KINDS)}
        lookups.years(args, sorted(years), " and ".join(datasets), span=True)
        if rows is None:
            rows = db.session.execute(series(geo.id, EXPORTS, datasets[0])).all()
        return growth_body(geo, rows, args["from_"], args["to"], lookups.sources, delineations=True)
