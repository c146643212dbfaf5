"""Every figure in long form: the observations, a page at a time, each page after the key where the last ended."""

import base64
import binascii

import orjson
from flask.views import MethodView
from flask_smorest import abort

from api import db, lookups
from api.caching import cached
from api.formats import csv_columns, encoded
from api.pagination import url_with
from api.problems import Blueprint
from models import figures
from models.observation import long_form, observations
from schemas.observations import COLUMNS, ObservationArgs, ObservationPageSchema

blp = Blueprint("observations", __name__, url_prefix="/v1", description="Every figure, in long form.")
CURSOR = (str, str, str, int, str, str, int)  # the data version, then the primary key's columns


@blp.route("/observations")
class Observations(MethodView):
    @blp.arguments(ObservationArgs(), location="query")
    @blp.alt_response(410, response="GONE", description="The cursor is from an older data version: start again.")
    @cached
    @blp.response(200, ObservationPageSchema)
    @csv_columns(*COLUMNS)
    def get(self, args):
        """List observations: every figure in long form (dataset, indicator, place, industry, partner, year, value,
        status), filtered by lists, a page at a time in primary-key order"""
        snapshot = db.snapshot()
        lookups.datasets(args.get("dataset", []))
        lookups.industries(args.get("industry", []))
        ids = lookups.place_ids(args["code"], args.get("kind", [])) if "code" in args else []
        query = observations(args.get("dataset", ()), args.get("indicator", ()), ids, args.get("kind", ()),
                             args.get("industry", ()), lookups.partners(args.get("partner", [])), args.get("from_"),
                             args.get("to"), after(args["cursor"], snapshot.version) if "cursor" in args else None)
        rows = snapshot.connection.execute(query.limit(args["page_size"] + 1)).all()
        page = rows[:args["page_size"]]
        following = cursor(snapshot.version, page[-1][:6]) if len(rows) > len(page) else None
        links = [f'<{url_with(cursor=None)}>; rel="first"']
        if following:
            links.append(f'<{url_with(cursor=following)}>; rel="next"')
        return encoded({
            "data": long_form(page, figures.geographies(snapshot).by_id),
            "sources": lookups.sources({r[0] for r in page}),
            "meta": {"page_size": args["page_size"], "next_cursor": following, "data_version": snapshot.version},
        }), {"Link": ", ".join(links)}


def cursor(version: str, key: tuple) -> str:
    """An opaque token for the place after `key` in the data of `version`."""
    return base64.urlsafe_b64encode(orjson.dumps([version, *key])).decode().rstrip("=")


def after(token: str, version: str) -> tuple:
    """The key a cursor continues after; 400 if it is not a cursor this API gave, 410 if it was given under another
    data version (the pages already read and those to come would not fit together)."""
    try:
        given = orjson.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (binascii.Error, ValueError):
        given = None
    if not (isinstance(given, list) and len(given) == len(CURSOR) and all(
            type(v) is t and (len(v) <= 64 if t is str else 0 <= v < 2**53) for v, t in zip(given, CURSOR))):
        lookups.refuse("cursor", "not a cursor this API gave: use meta.next_cursor as it is")
    if given[0] != version:
        abort(410, message=f"This cursor belongs to data version {given[0]}; the data have changed since (version "
                           f"{version}). Read the panel again from the first page.", hint=url_with(cursor=None))
    return tuple(given[1:])
