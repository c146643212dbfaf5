"""Response formats: JSON (orjson) by default, CSV for collections and series."""

import csv
import io

import flask_smorest
import orjson
from flask import Flask, Response, current_app, g, request
from flask.json.provider import JSONProvider
from flask_smorest import abort
from werkzeug.datastructures import MIMEAccept
from werkzeug.http import parse_accept_header

CSV = "text/csv"
# An operation that answers JSON and CSV has a sibling operation for its CSV alone at its path + SUFFIX
# (/v1/metros/{code}/exports.csv): generated clients read a response by one media type per operation.
SUFFIX = ".csv"
# Negotiation reads the media ranges within the first ACCEPT_READ bytes of Accept: parsing a header of hundreds
# of kilobytes costs a worker a large part of a second.
ACCEPT_READ = 1024


class OrjsonProvider(JSONProvider):
    """Flask's JSON through orjson: faster, and Decimal/date aware via `default`."""

    def dumps(self, obj, **kwargs) -> str:
        return orjson.dumps(obj, default=str).decode()

    def loads(self, s, **kwargs):
        return orjson.loads(s)

    def response(self, *args, **kwargs) -> Response:
        obj = args[0] if len(args) == 1 else args or kwargs
        return current_app.response_class(orjson.dumps(obj, default=str), mimetype="application/json")


def csv_columns(*columns: str, rows: str = "data", only: bool = False):
    """Declare that an operation also answers CSV: one row per item of the body's `rows` list, these columns.

    A column is a key of the item, a dotted path into it, or (if the item lacks it) a dotted path into the body,
    such as `geography.code` for the place a series is about. `rows` may name a list in each item of a list
    ("series.data": every point of every series); a column is then looked up in the point, then its series.
    The CSV is also served at the operation's path + SUFFIX (api.problems.Blueprint), unless CSV is the `only`
    representation the operation has (a file).
    """
    document = flask_smorest.Blueprint.doc(responses={200: {"content": {CSV: {"schema": {
        "type": "string", "description": "CSV with a header row: " + ", ".join(c.replace(".", "_") for c in columns),
    }}}}})

    def decorator(func):
        func = document(func)
        func._csv = (rows, columns)
        func._csv_path = not only
        return func
    return decorator


def has_csv_path(view) -> bool:
    """Whether a view (a MethodView class) answers JSON and CSV, and so has its CSV at its path + SUFFIX too."""
    return getattr(getattr(view, "get", None), "_csv_path", False)


def on_csv_path() -> bool:
    """Whether this request is on an operation's CSV path (its path + SUFFIX)."""
    return request.url_rule is not None and request.url_rule.rule.endswith(SUFFIX)


def wanted_format() -> str:
    """`format=` wins; then the Accept header (its first ACCEPT_READ bytes); JSON when nothing says otherwise."""
    asked = request.args.get("format")
    if asked in ("json", "csv"):
        return asked
    accept = request.headers.get("Accept", "*/*")
    if accept in ("*/*", "application/json"):
        return "json"
    if len(accept) > ACCEPT_READ:
        accept = accept[:ACCEPT_READ].rpartition(",")[0]
    best = parse_accept_header(accept, MIMEAccept).best_match(["application/json", CSV], default="application/json")
    return "csv" if best == CSV else "json"


def _lookup(path: str, *sources: dict):
    for source in sources:
        value = source
        for part in path.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if value is not None:
            return value
    return None


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ";".join(map(str, value))
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def to_csv(body: dict, rows: str, columns: tuple[str, ...]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([c.replace(".", "_") for c in columns])
    outer, _, inner = rows.partition(".")
    for item in body.get(outer) or []:
        for row, parent in ([(point, item) for point in item.get(inner) or []] if inner else [(item, body)]):
            writer.writerow([_cell(_lookup(c, row, parent, body)) for c in columns])
    return out.getvalue()


def _view():
    view = current_app.view_functions.get(request.endpoint)
    return getattr(view, "view_class", view)


def _columns() -> tuple[str, tuple[str, ...]] | None:
    view = _view()
    name = "get" if request.method == "HEAD" else request.method.lower()  # a HEAD runs the GET (MethodView)
    return getattr(getattr(view, name, view), "_csv", None)


def init_app(app: Flask) -> None:
    app.json = OrjsonProvider(app)

    @app.before_request
    def negotiate():
        if on_csv_path():  # the path says CSV: neither Accept nor a format parameter has a say
            if "format" in request.args:
                abort(400, message="A .csv path answers CSV only.", messages={"query": {"format": [
                    f"Unknown field: this path answers CSV; JSON is at {request.path.removesuffix(SUFFIX)}."]}})
            g.format = "csv"
            return
        g.format = wanted_format()  # read by caching.canonical (the ETag) and render (the representation)
        if g.format == "csv" and request.endpoint and request.endpoint in app.view_functions and _columns() is None:
            if request.args.get("format") == "csv":
                abort(400, message="CSV is offered for collections and series only; this operation answers JSON.",
                      messages={"query": {"format": ["CSV is not available for this operation."]}})
            g.format = "json"

    @app.after_request
    def vary(response: Response) -> Response:
        given = response.headers.get("Vary")  # plain strings: response.vary's parse and rewrite cost more
        if given is None:
            response.headers["Vary"] = "Accept"
        elif "accept" not in (v.strip().lower() for v in given.split(",")):
            response.headers["Vary"] = f"{given}, Accept"
        return response


def encoded(body: dict) -> Response:
    """A JSON body encoded as it is, without the operation's schema: for the bodies that models build ready to serve
    (series, rankings), which tests/test_contract.py proves equal to what their schema writes."""
    return current_app.response_class(orjson.dumps(body), mimetype="application/json")


def render(response: Response) -> Response:
    """The finished representation: CSV if that was asked for and the operation offers it."""
    if g.get("format") == "csv" and response.status_code == 200 and response.mimetype == "application/json":
        layout = _columns()
        if layout:
            response.set_data(to_csv(orjson.loads(response.get_data()), *layout))
            response.mimetype = CSV
            response.headers["Content-Disposition"] = f'inline; filename="{_view().__name__}.csv"'
    return response
