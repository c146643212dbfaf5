"""Errors as RFC 9457 problem details, for every error the API can answer."""

from copy import copy
from http import HTTPStatus

import flask_smorest
import marshmallow as ma
import orjson
from flask import Response, g, request
from flask.sansio.blueprints import BlueprintSetupState
from flask_smorest.utils import prepare_response
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from webargs.fields import DelimitedList
from webargs.flaskparser import FlaskParser
from werkzeug.exceptions import HTTPException

from api.formats import SUFFIX, has_csv_path
from models.observation import AmbiguousDataset

PROBLEM = "application/problem+json"
REPEATED = "Given more than once; this parameter takes a single value."


class ProblemSchema(ma.Schema):
    """An RFC 9457 problem: what went wrong, and for a bad request which parameter and why."""

    type = ma.fields.String(metadata={"description": "Problem type URI; about:blank for plain HTTP errors."})
    title = ma.fields.String(metadata={"description": "The HTTP status phrase."})
    status = ma.fields.Integer(metadata={"description": "The HTTP status code."})
    detail = ma.fields.String(metadata={"description": "What went wrong, for a person."})
    instance = ma.fields.String(metadata={"description": "The request path."})
    errors = ma.fields.Dict(
        keys=ma.fields.String(), values=ma.fields.List(ma.fields.String()),
        metadata={"description": "Messages per offending parameter."},
    )
    hint = ma.fields.String(metadata={"description": "A way to get what was probably meant."})


def problem(status: int, detail: str | None = None, headers: dict | None = None, **extra) -> Response:
    body = {"type": "about:blank", "title": HTTPStatus(status).phrase, "status": status}
    if detail:
        body["detail"] = detail
    body["instance"] = request.path
    body.update({k: v for k, v in extra.items() if v is not None})
    if headers and "Retry-After" in headers:
        g.retry_after = headers["Retry-After"]  # for limits.ietf_headers: Flask-Limiter would put its own window
    return Response(orjson.dumps(body), status=status, headers=headers, mimetype=PROBLEM)


def _field_errors(messages) -> dict[str, list[str]]:
    """webargs' {location: {field: [messages]}} → {field: [messages]}."""
    errors = {}
    for fields in messages.values():
        for field, msgs in (fields.items() if isinstance(fields, dict) else [("_schema", fields)]):
            if isinstance(msgs, dict):  # a list field: {index: [messages]}
                msgs = [m for sub in msgs.values() for m in sub]
            errors[field] = [str(m) for m in msgs]
    return errors


def list_parameters(schema: ma.Schema) -> set[str]:
    """The query parameters of an argument schema that take a list (webargs DelimitedList fields)."""
    return {field.data_key or name for name, field in schema.fields.items() if isinstance(field, DelimitedList)}


class Parser(FlaskParser):
    """Bad parameters are a 400, and a parameter the operation does not know is a bad parameter. A list parameter
    may be given comma-separated (industry=336,3364), repeated (industry=336&industry=3364), or both; any other
    parameter is given once."""

    DEFAULT_VALIDATION_STATUS = 400
    DEFAULT_UNKNOWN_BY_LOCATION = {**FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION, "query": ma.RAISE}

    def load_querystring(self, req, schema):
        lists = list_parameters(schema)
        repeated = {name: values for name, values in req.args.lists() if len(values) > 1}
        refused = {name: [REPEATED] for name in repeated if name not in lists}
        if refused:
            raise ma.ValidationError(refused)
        args = req.args.copy()
        for name, values in repeated.items():
            args.setlist(name, [",".join(values)])
        return self._makeproxy(args, schema)


class SetupState(BlueprintSetupState):
    """Flask's, except that a rule starting with "." extends the blueprint's prefix instead of going below it: the
    rule "" + SUFFIX of the blueprint at /v1/metros is /v1/metros.csv, not /v1/metros/.csv."""

    def add_url_rule(self, rule, endpoint=None, view_func=None, **options):
        if not (rule.startswith(".") and self.url_prefix):
            return super().add_url_rule(rule, endpoint, view_func, **options)
        unprefixed = copy(self)
        unprefixed.url_prefix = None
        return BlueprintSetupState.add_url_rule(unprefixed, self.url_prefix.rstrip("/") + rule, endpoint, view_func,
                                                **options)


class Blueprint(flask_smorest.Blueprint):
    """Arguments read by the Parser above; and every operation that answers JSON and CSV (api.formats.csv_columns)
    has a sibling at its path + SUFFIX for its CSV alone: the same view, documented by api/spec.py as an operation of
    its own (`<operationId>_csv`), since generated clients read an operation's response by one media type."""

    ARGUMENTS_PARSER = Parser()

    def add_url_rule(self, rule, endpoint=None, view_func=None, provide_automatic_options=None, **options):
        super().add_url_rule(rule, endpoint, view_func, provide_automatic_options, **options)
        if has_csv_path(view_func):
            super().add_url_rule(rule + SUFFIX, f"{endpoint or view_func.__name__}_csv", view_func,
                                 provide_automatic_options, **options)

    def make_setup_state(self, app, options, first_registration=False) -> SetupState:
        return SetupState(self, app, options, first_registration)


class Api(flask_smorest.Api):
    """flask-smorest's Api, answering every error as problem+json (and keeping 405's Allow header)."""

    ERROR_SCHEMA = ProblemSchema

    def _register_error_handlers(self):
        super()._register_error_handlers()
        for error in (OperationalError, InterfaceError, PoolTimeout):
            self._app.register_error_handler(error, self.handle_store_error)
        self._app.register_error_handler(DBAPIError, self.handle_dbapi_error)
        self._app.register_error_handler(AmbiguousDataset, self.handle_ambiguous_dataset)

    def handle_ambiguous_dataset(self, error: AmbiguousDataset) -> Response:
        """Two datasets give one figure different values: the client must choose one."""
        return problem(400, "Invalid parameter(s): dataset", errors={"dataset": [str(error)]})

    def handle_store_error(self, error: Exception) -> Response:
        """The store is unreachable, not built, or too slow: 503 with Retry-After; the next request tries again."""
        from api import db

        db.release()
        if getattr(getattr(error, "orig", None), "sqlstate", None) == "57014":  # query_canceled
            timeout = self._app.config.get("STATEMENT_TIMEOUT_MS")
            self._app.logger.warning("query cancelled after the statement timeout (%s ms): %s", timeout,
                                     str(error).splitlines()[0])
            return problem(503, f"The query was stopped after the store's time limit ({timeout} ms); try again "
                                "shortly.", {"Retry-After": "5"})
        self._app.logger.warning("store unavailable: %s", str(error).splitlines()[0])
        return problem(503, "The data store is unavailable; try again shortly.", {"Retry-After": "5"})

    def handle_dbapi_error(self, error: DBAPIError) -> Response:
        """A lost connection surfaces as another DBAPI error at times: a 503 too. Anything else is a bug (500)."""
        if error.connection_invalidated:
            return self.handle_store_error(error)
        raise error

    def handle_http_exception(self, error: HTTPException) -> Response:
        data = getattr(error, "data", None) or {}
        headers = dict(data.get("headers") or {})
        headers.update(h for h in error.get_headers() if h[0].lower() != "content-type")
        if "messages" in data:
            errors = _field_errors(data["messages"])
            detail = "Invalid parameter(s): " + ", ".join(sorted(errors))
            return problem(error.code, detail, headers, errors=errors)
        detail = data.get("message") or error.description
        return problem(error.code, detail, headers, hint=data.get("hint"))

    def _init_spec(self, **options):
        """The spec, completed by api/spec.py's rules as each operation is registered."""
        from api.spec import OperationRules, list_parameter

        options.setdefault("servers", [{"url": "/", "description": "The host that serves this document."}])
        super()._init_spec(extra_plugins=[OperationRules(self._app)], **options)
        self.ma_plugin.converter.add_parameter_attribute_function(list_parameter)

    def _register_responses(self):
        from api.spec import RATE_LIMIT, SHARED_HEADERS, header_refs

        for status in HTTPStatus:
            response = {"description": status.phrase}
            if status >= 400:
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, PROBLEM)
            response["headers"] = header_refs(SHARED_HEADERS.get(status, ("X-Request-ID", *RATE_LIMIT)))
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "Default error response", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, PROBLEM)
        self.spec.components.response("DEFAULT_ERROR", response, lazy=True)


def not_found(detail: str, hint: str | None = None):
    """Abort with a 404 problem, with a hint where one helps."""
    flask_smorest.abort(404, message=detail, hint=hint)
