"""Trade partners and exports by destination: the partners and their codes, a state's destinations, a partner's
source states and national total, each as known on a date (as_of) from the releases of the series; and what a state
read (series, growth, rankings) takes for a partner and a date, and a metro read (series, growth) for a date."""

from collections import defaultdict, namedtuple
from collections.abc import Iterable
from types import MappingProxyType

from flask.views import MethodView
from flask_smorest import abort
from sqlalchemy import Select, select

from api import db, lookups
from api.caching import cached
from api.formats import csv_columns
from api.pagination import paginate
from api.problems import Blueprint, not_found
from models import Geography, Industry, Observation, figures
from models.observation import (
    ALL_INDUSTRIES,
    EXPORTS,
    WORLD,
    figure,
    partner_coverage,
    partners,
    series,
    with_industry_titles,
)
from models.partners import GROUP_KINDS, partner_body, partner_exports, partner_states, state_partners
from models.stats import Place, combine
from models.vintages import STATE_SERIES, Known, Revision, cells, sole_releases
from schemas.common import FormatArgs
from schemas.partners import (
    PartnerDetailSchema,
    PartnerExportsArgs,
    PartnerExportsSchema,
    PartnerPageSchema,
    PartnerQueryArgs,
    PartnerStatesArgs,
    PartnerStatesSchema,
    StatePartnersArgs,
    StatePartnersSchema,
)

blp = Blueprint("partners", __name__, url_prefix="/v1", description="Trade partners and exports by destination.")

# A place's figure as a series or a growth reads it: from the release `dataset_id`, with every covering release's
# figure (`revisions`) and the release's note on it.
Point = namedtuple("Point", "geography_id dataset_id indicator industry industry_title partner year value status "
                            "released_on revisions note")


def refuse(parameter: str, message: str):
    abort(400, messages={"query": {parameter: [message]}})


def partner(code: str, parameter: str | None = None) -> figures.PartnerInfo:
    """A partner by any code it is known by (CAN, ca, 1220); unknown: 404 for a path segment, 400 naming the query
    `parameter` when it came from one."""
    snapshot = db.snapshot()
    found = figures.partner_codes(snapshot).get(code.strip().upper())
    if found is not None:
        return figures.partners(snapshot)[found]
    code = code[:64]
    if parameter:
        refuse(parameter, f"no trade partner has the code '{code}'; the codes are listed at /v1/partners")
    not_found(f"No trade partner has the code '{code}'.", "Partners are named by ISO 3166 alpha-3 (CAN) or alpha-2 "
                                                         "(CA), Census country code (1220), G-… for a group of "
                                                         "countries, WLD for the world; the list is at /v1/partners")


def releases(args: dict, series_: str = STATE_SERIES) -> tuple[str, tuple[str, ...]]:
    """The series a request reads and its releases, newest first: the one release `dataset=` names, else those of
    `series_` published on or before `as_of` (all without it). 400 naming as_of where none had been."""
    snapshot, as_of = db.snapshot(), args.get("as_of")
    if "dataset" in args:
        lookups.source(args["dataset"])
        found = figures.release(snapshot, args["dataset"])
        if as_of is not None and (found.released_on is None or found.released_on > as_of):
            refuse("as_of", f"{found.id} has no release date" if found.released_on is None else
                   f"{found.id} was released on {found.released_on}, after {as_of}")
        return found.series, (found.id,)
    dated = [r for r in figures.releases(snapshot).get(series_, ()) if r.released_on is not None]
    known = tuple(r.id for r in dated if as_of is None or r.released_on <= as_of)
    if not known:
        first = min((r.released_on for r in dated), default=None)
        refuse("as_of", f"the first release of {series_} is dated {first}: none of its figures was known on {as_of}"
               if first else f"no release of {series_} is loaded")
    return series_, known


def kinds_of(asked: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(k for a in asked for k in (GROUP_KINDS if a == "group" else (a,))))


def year_of(args: dict, available, what: str) -> int:
    """The asked year, or the latest with figures; 400 naming year (or dataset, as_of) if it has none."""
    if not available:
        refuse("dataset" if "dataset" in args else "as_of" if "as_of" in args else "year", f"no figures for {what}")
    if "year" not in args:
        return max(available)
    if args["year"] not in available:
        refuse("year", f"no figures for {what} in {args['year']}; there are for {figures.spans(available)}")
    return args["year"]


def revisions(known: Iterable[Revision]) -> list[dict]:
    return [{"dataset": r.dataset, "released_on": r.released_on, "value": figure(r.value), "status": r.status}
            for r in known]


def known_points(places: list[Geography], args: dict, series_: str, kinds: tuple[str, ...], partner_: str = WORLD,
                 title: str | None = None) -> list[Point]:
    """Places' figures of industry ALL for a partner as known on args["as_of"] (of every dated release without it):
    each year from the newest release of `series_` published by then that covers it, with every covering release's
    figure. `title`: the industry's, which the points carry."""
    series_, known_releases = releases(args, series_)
    known = figures.known_places(db.snapshot(), series_, known_releases, kinds, partner_, ALL_INDUSTRIES).known
    ids = {p.code: p.id for p in places}
    return [Point(ids[code], k.dataset, "exports_goods", ALL_INDUSTRIES, title, partner_, year, k.value, k.status,
                  k.released_on, revisions(k.revisions), k.note)
            for (code, year), k in known.items() if code in ids]


def release_points(places: list[Geography], args: dict, query: Select, kinds: tuple[str, ...],
                   partner_: str = WORLD) -> list[Point]:
    """The figures `query` (series() with industry titles) gives of the one release dataset= names (400 naming as_of
    if it was published after it), with its release date; with revisions=true, each figure of industry ALL with
    every release's figure of it known on as_of, where its series was released more than once."""
    snapshot = db.snapshot()
    series_, (dataset,) = releases(args)
    released_on = figures.release(snapshot, dataset).released_on
    history = {}
    if args.get("revisions") and len(figures.releases(snapshot)[series_]) > 1:
        known_releases = releases({k: v for k, v in args.items() if k != "dataset"}, series_)[1]
        history = figures.known_places(snapshot, series_, known_releases, kinds, partner_, ALL_INDUSTRIES).known
    codes = {p.id: p.code for p in places}
    points = []
    for r in db.session.execute(query):
        known = history.get((codes[r.geography_id], r.year)) if r.industry == ALL_INDUSTRIES else None
        points.append(Point(r.geography_id, r.dataset_id, r.indicator, r.industry, r.industry_title, r.partner,
                            r.year, r.value, r.status, released_on, revisions(
                                known.revisions if known else [Revision(dataset, released_on, r.value, r.status)]),
                            r.note))
    return points


def state_figures(places: list[Geography], args: dict, industries=(ALL_INDUSTRIES,),
                  naics_level: int | None = None) -> list[Point]:
    """States' exports to args["partner"] as a series or a growth reads them: with `dataset=`, that dataset's;
    else, for industry ALL, the series of state exports by destination as known on `as_of` (each year from the
    newest release that covers it), and, without as_of, the files by industry (the only release of their series,
    undated) for what that series does not give."""
    code = partner(args["partner"], "partner").code
    ids = [p.id for p in places]
    if "dataset" in args:
        return release_points(places, args, with_industry_titles(series(
            ids, EXPORTS, args["dataset"], industries=industries, naics_level=naics_level, partner=code)),
            ("state",), code)
    as_of = args.get("as_of")
    if as_of is not None and (naics_level or set(industries) != {ALL_INDUSTRIES}):
        refuse("as_of", "figures by industry come from files without a release date: as_of applies to industry ALL")
    points = {}
    if ALL_INDUSTRIES in industries and not naics_level:
        title = db.session.scalar(select(Industry.title).where(Industry.code == ALL_INDUSTRIES))
        points = {(p.geography_id, p.industry, p.year): p
                  for p in known_points(places, args, STATE_SERIES, ("state",), code, title)}
    if as_of is None:
        query = series(ids, EXPORTS, None, industries=industries, naics_level=naics_level, partner=code)
        for r in db.session.execute(with_industry_titles(query.where(Observation.dataset_id.in_(sole_releases())))):
            if (r.geography_id, r.industry, r.year) not in points:
                points[r.geography_id, r.industry, r.year] = Point(
                    r.geography_id, r.dataset_id, r.indicator, r.industry, r.industry_title, r.partner,
                    r.year, r.value, r.status, None, revisions([Revision(r.dataset_id, None, r.value, r.status)]),
                    r.note)
    return sorted(points.values(), key=lambda p: (p.geography_id, p.dataset_id, p.indicator, p.industry, p.year))


def during(first: int | None, last: int | None) -> str:
    """The years from `first` to `last` (either may be None) in words."""
    if first and last:
        return f"in {first}-{last}" if last > first else f"in {first}"
    return f"from {first}" if first else f"up to {last}" if last else "in any year"


def has_figures(points: list, places: list[Geography], args: dict) -> None:
    """400 where a partner other than the world (args["partner"], the world without it), or any partner as known on
    `as_of`, has no figure from `from` to `to` for the places (naming partner, or as_of), with the years that have
    some."""
    info, as_of = partner(args.get("partner", WORLD), "partner"), args.get("as_of")
    first, last = args.get("from_"), args.get("to")
    given = sorted({p.year for p in points if p.value is not None})
    if (info.code == WORLD and as_of is None) or any((first or 0) <= year <= (last or 9999) for year in given):
        return
    where = f" in {args['dataset']}" if "dataset" in args else f" as known on {as_of}" if as_of else ""
    refuse("partner" if info.code != WORLD else "as_of",
           f"no figures for the exports of {', '.join(p.name for p in places)} to {info.name} ({info.code}) "
           f"{during(first, last)}{where}" + (f"; there are for {figures.spans(given)}" if given else ""))


def state_places(args: dict, years: tuple[int, ...] | None) -> tuple[tuple[Place, ...], list[str],
                                                                     figures.NationalTotals | None]:
    """Every state's figures in `years` (all if None) for a ranking, the datasets they come from, and for by=share
    the totals a state's series divides the same figures by (figures.state_shares), read as state_figures() reads
    one state's."""
    snapshot, industry, as_of = db.snapshot(), args["industry"], args.get("as_of")
    info = partner(args["partner"], "partner")
    wanted = (lambda y: True) if years is None else (lambda y: y in years)
    merged: dict[str, Place] = {}
    used, sources = [], defaultdict(set)  # sources: year → the datasets of its figures
    if "dataset" in args:
        dataset = releases(args)[1][0]
        found, used = combine({dataset: figures.places(snapshot, dataset, "exports_goods", ("state",), industry,
                                                       info.code)}, years or range(1900, 2101))
        merged = {p.code: p for p in found}
        for year in {y for p in found for y in p.figures}:
            sources[year].add(dataset)
    elif industry == ALL_INDUSTRIES:
        series_, known_releases = releases(args)
        known = figures.known_places(snapshot, series_, known_releases, ("state",), info.code, industry)
        for place in known.places:
            if given := {y: f for y, f in place.figures.items() if wanted(y)}:
                merged[place.code] = Place(place.code, place.name, MappingProxyType(given), place.kind)
        for p in merged.values():
            for y in p.figures:
                sources[y].add(known.known[p.code, y].dataset)
        used = sorted({d for found in sources.values() for d in found})
    elif as_of is not None:
        refuse("as_of", "figures by industry come from files without a release date: as_of applies to industry ALL")
    if as_of is None and "dataset" not in args:  # the files by industry, for what the series does not give
        rest = {d: [Place(p.code, p.name, MappingProxyType({y: f for y, f in p.figures.items()
                                                            if y not in getattr(merged.get(p.code), "figures", ())}),
                          p.kind)
                    for p in figures.places(snapshot, d, "exports_goods", ("state",), industry, info.code)]
                for d in figures.state_datasets(snapshot)}
        found, more = combine(rest, years or range(1900, 2101))
        for place in found:
            given = {**place.figures, **getattr(merged.get(place.code), "figures", {})}
            merged[place.code] = Place(place.code, place.name, MappingProxyType(given), place.kind)
        for dataset, places in rest.items():
            for year in {y for p in places for y in p.figures if wanted(y)}:
                sources[year].add(dataset)
        used += more
    if not used and (info.code != WORLD or as_of is not None):
        refuse("partner" if info.code != WORLD else "as_of", f"no figures for the exports of states to {info.name} "
               f"({info.code}) {during(*(years[0], years[-1]) if years else (None, None))}" +
               (f" as known on {as_of}" if as_of else ""))
    totals = figures.state_shares(snapshot, sources, industry, info.code, merged) if args["by"] == "share" else None
    return tuple(sorted(merged.values(), key=lambda p: p.code)), used or list(filter(None, [args.get("dataset")])), totals


def state_years(args: dict) -> tuple[list[int], str]:
    """The years with state figures a ranking could rank, and what they are, in words."""
    found, _, _ = state_places(args, None)
    return (sorted({y for p in found for y, (value, _) in p.figures.items() if value is not None}),
            args.get("dataset", "state exports"))


@blp.route("/partners")
class Partners(MethodView):
    @blp.arguments(PartnerQueryArgs(), location="query")
    @cached
    @blp.response(200, PartnerPageSchema)
    @csv_columns("code", "name", "kind", "iso2", "iso3")
    def get(self, args):
        """List trade partners: countries (ISO 3166 codes, Census names), groups with their members, the world"""
        body, headers = paginate(partners(kinds_of(args["kind"]) if "kind" in args else None, args.get("q")),
                                 args["page"], args["page_size"])
        directory = figures.partners(db.snapshot())
        return {**body, "data": [partner_body(directory[code], directory) for code in body["data"]]}, headers


@blp.route("/partners/<code>")
class Partner(MethodView):
    @blp.arguments(FormatArgs(), location="query")
    @blp.alt_response(404, response="NOT_FOUND")
    @cached
    @blp.response(200, PartnerDetailSchema)
    def get(self, args, code):
        """Get a trade partner by any code it is known by: its codes, its members (a group) or groups, its datasets"""
        info = partner(code)
        return {**partner_body(info, figures.partners(db.snapshot())),
                "datasets": db.session.execute(partner_coverage(info.code)).mappings().all()}


RANKED_STATE_COLUMNS = ("rank", "code", "usps", "name", "value", "status", "share", "dataset", "released_on")


@blp.route("/partners/<code>/states")
class PartnerStates(MethodView):
    @blp.arguments(PartnerStatesArgs(), location="query")
    @blp.alt_response(404, response="NOT_FOUND")
    @cached
    @blp.response(200, PartnerStatesSchema)
    @csv_columns(*RANKED_STATE_COLUMNS)
    def get(self, args, code):
        """Rank the states exporting to a partner in a year, with their shares of the states' total"""
        info, snapshot = partner(code), db.snapshot()
        series_, known_releases = releases(args)
        rows = figures.series_cells(snapshot, series_, info.code)
        known = figures.known(snapshot, series_, known_releases, rows)
        places = {r.geography_id: r for r in rows}
        years = {y for (g, p, y) in known if p == info.code and places[g].kind == "state"}
        year = year_of(args, years, f"exports to {info.name} ({info.code})")
        states = {places[g].code: (places[g].usps, places[g].name, k) for (g, p, y), k in known.items()
                  if p == info.code and y == year and places[g].kind == "state"}
        nation, unallocated = (next((k for (g, p, y), k in known.items() if p == info.code and y == year
                                     and places[g].kind == kind), None) for kind in ("nation", "unallocated"))
        used = {k.dataset for *_, k in states.values()}
        return partner_states({"code": info.code, "name": info.name}, year, states, nation, unallocated, args["limit"],
                              lookups.sources(used), args.get("as_of"))


@blp.route("/partners/<code>/exports")
class PartnerExports(MethodView):
    @blp.arguments(PartnerExportsArgs(), location="query")
    @blp.alt_response(404, response="NOT_FOUND")
    @cached
    @blp.response(200, PartnerExportsSchema)
    @csv_columns("year", "value", "status", "dataset", "released_on", "states_total", "states", "unallocated",
                 "unallocated_status", "reason")
    def get(self, args, code):
        """Get the national total of exports to a partner each year, with the sum of the states and what it leaves
        out"""
        info, snapshot = partner(code), db.snapshot()
        series_, known_releases = releases(args)
        rows = figures.series_cells(snapshot, series_, info.code)
        known = figures.known(snapshot, series_, known_releases, rows)
        places = {r.geography_id: r for r in rows}
        years: dict[int, tuple[dict, Known | None, Known | None]] = {}
        for (g, p, y), k in known.items():
            if p == info.code:
                states, nation, unallocated = years.get(y, ({}, None, None))
                kind = places[g].kind
                if kind == "state":
                    states[places[g].code] = k
                years[y] = (states, k if kind == "nation" else nation, k if kind == "unallocated" else unallocated)
        first, last = args.get("from_", 0), args.get("to", 9999)
        if not any(first <= y <= last for y in years):
            refuse("from" if "from_" in args else "to" if "to" in args else "as_of" if "as_of" in args else "dataset",
                   f"no figures for exports to {info.name} ({info.code})" +
                   (f" {during(args.get('from_'), args.get('to'))}; there are for {figures.spans(years)}" if years
                    else ""))
        body = partner_exports({"code": info.code, "name": info.name}, years, args.get("as_of"), series_)
        body["data"] = [p for p in body["data"] if first <= p["year"] <= last]
        return {**body, "sources": lookups.sources(p["dataset"] for p in body["data"])}


@blp.route("/states/<code>/partners")
class StatePartners(MethodView):
    @blp.arguments(StatePartnersArgs(), location="query")
    @blp.alt_response(404, response="NOT_FOUND")
    @cached
    @blp.response(200, StatePartnersSchema)
    @csv_columns("rank", "code", "name", "kind", "value", "status", "share", "dataset", "released_on")
    def get(self, args, code):
        """Rank a state's export destinations in a year, with their shares of its exports to the world"""
        geo, snapshot = lookups.state(code), db.snapshot()
        series_, known_releases = releases(args)
        world = db.connection().execute(cells(known_releases, geography_ids=[geo.id], partners=[WORLD])).all()
        year = year_of(args, {r.year for r in world}, f"exports of {geo.name}")
        rows = db.connection().execute(cells(known_releases, geography_ids=[geo.id], years=[year])).all()
        known = {p: k for (_, p, _), k in figures.known(snapshot, series_, known_releases, rows).items()}
        if set(known) == {WORLD}:
            refuse("dataset", f"{known_releases[0]} has no figures by destination")
        return state_partners(geo.place, year, known, figures.partners(snapshot), kinds_of(args.get("kind", ["country"])),
                              args["limit"], lookups.sources, args.get("as_of"))

