"""What the spec says about every operation, by rules, so that an operation added later is documented the same way.

As each operation is registered (an apispec plugin), it gets an operationId from its view class (`get_metro`,
`get_metro_exports`, `list_metros` for a paginated one, `get_metro_exports_csv` for the CSV of `get_metro_exports`
at its path + `.csv`), the `format` values it offers, the 304/429/503 responses and the headers its responses carry,
and an example request and response (api/examples.json, the fixture store's answers; `make openapi` refreshes them;
a `.csv` operation shows the CSV example of its JSON sibling). Every schema is left open for growth, as v1 promises: no
`additionalProperties: false`, and a response's enumerations are known values that may grow.
"""

import json
import re
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from apispec import BasePlugin
from flask import Flask
from webargs.fields import DelimitedList

from api.formats import CSV, SUFFIX, has_csv_path

EXAMPLES = Path(__file__).with_name("examples.json")
ID_RULE = re.compile(r"^(get|list)_[a-z]+(_[a-z]+)*$")
HEADERS = {
    "X-Request-ID": "The request's id: the client's X-Request-ID if it was well-formed, else a new one; logged.",
    "ETag": "Strong validator of the data version and the canonical request; send it back in If-None-Match.",
    "Last-Modified": "When the data were last loaded.",
    "Cache-Control": "How long the response may be reused (public, max-age, and s-maxage for shared caches), or "
                     "no-store.",
    "X-Cache": "hit or miss: whether the response came from the API's response cache.",
    "Link": "RFC 8288 links to the first, prev, next and last pages.",
    "X-Total-Count": "Items matching the request, on all pages (as meta.total).",
    "RateLimit": 'IETF draft: requests remaining and seconds until the window resets ("default";r=119;t=60).',
    "RateLimit-Policy": 'IETF draft: the limit and its window in seconds ("default";q=120;w=60).',
    "X-RateLimit-Limit": "Requests allowed per window.",
    "X-RateLimit-Remaining": "Requests left in the current window.",
    "X-RateLimit-Reset": "When the window resets (Unix time, seconds).",
    "Retry-After": "Seconds to wait before trying again.",
}
INTEGER_HEADERS = {"X-Total-Count", "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "Retry-After"}
RATE_LIMIT = ("RateLimit", "RateLimit-Policy", "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")
VALIDATORS = ("ETag", "Last-Modified", "X-Cache")
# The headers of the shared responses (components/responses), by status: every one has a request id and, unless
# the operation is exempt from rate limits, the limit's headers.
SHARED_HEADERS = {304: ("X-Request-ID", "ETag", "Cache-Control", *RATE_LIMIT), 429: ("X-Request-ID", "Retry-After", *RATE_LIMIT),
                  503: ("X-Request-ID", "Retry-After", *RATE_LIMIT)}
LIST_NOTE = "A list: comma-separated (name=a,b), repeated (name=a&name=b), or both."
GROWS = "Known values; others may be added in v1."


def operation_id(view_class: type, parameters: list[dict]) -> str:
    """`list_` and the view class in snake case for an operation that pages (takes `page`, or a `cursor`), else
    `get_`."""
    verb = "list" if any(p["name"] in ("page", "cursor") for p in parameters) else "get"
    return f"{verb}_{re.sub(r'(?<!^)(?=[A-Z])', '_', view_class.__name__).lower()}"


def paging_headers(parameters: list[dict]) -> tuple[str, ...]:
    """A paged list's Link header, and with `page` its total; a list read by cursor has no total."""
    names = {p["name"] for p in parameters}
    return ("Link", "X-Total-Count") if "page" in names else ("Link",) if "cursor" in names else ()


def header_refs(names) -> dict:
    return {name: {"$ref": f"#/components/headers/{name}"} for name in names}


def list_parameter(converter, field, ret=None, **kwargs) -> dict:
    """A webargs DelimitedList query parameter, as the parser reads it (api.problems.Parser): the way generated
    clients send a list (form, exploded), and comma-separated."""
    if not isinstance(field, DelimitedList):
        return {}
    return {"style": "form", "explode": True, "description": f"{(ret or {}).get('description', '')} {LIST_NOTE}".strip()}


def open_for_growth(schema: dict) -> None:
    """No additionalProperties: false (new fields may appear), and an enumeration becomes its known values."""
    if schema.get("additionalProperties") is False:
        del schema["additionalProperties"]
    if "enum" in schema:
        schema["x-extensible-enum"] = schema.pop("enum")
        schema["description"] = f"{schema.get('description', '')} {GROWS}".strip()
    for child in (*schema.get("properties", {}).values(), schema.get("items"), schema.get("additionalProperties")):
        if isinstance(child, dict):
            open_for_growth(child)


class OperationRules(BasePlugin):
    """The rules above, applied by apispec to each operation and schema as flask-smorest registers it."""

    def __init__(self, app: Flask):
        self.app = app
        self.examples = json.loads(EXAMPLES.read_text())

    def init_spec(self, spec) -> None:
        self.spec = spec
        for name, description in HEADERS.items():
            spec.components.header(name, {"description": description, "schema": {
                "type": "integer" if name in INTEGER_HEADERS else "string"}})

    def schema_helper(self, name, definition, **kwargs) -> None:
        open_for_growth(definition)  # the marshmallow plugin's schema, completed in place

    def path_helper(self, path=None, operations=None, parameters=None, rule=None, **kwargs) -> None:
        """Examples of the path parameters (the flask plugin, before this one, has listed them)."""
        given = self.example_arguments(path)
        for parameter in parameters or []:
            if parameter["name"] in given:
                parameter["example"] = given[parameter["name"]]

    def operation_helper(self, path=None, operations=None, rule=None, **kwargs) -> None:
        from api.limits import limiter

        view_class = self.app.view_functions[rule.endpoint].view_class
        sibling = rule.rule.endswith(SUFFIX)  # the CSV of the operation at the path without SUFFIX
        csv_elsewhere = has_csv_path(view_class) and not sibling
        for method, operation in operations.items():
            function = getattr(view_class, method)
            responses = operation["responses"]
            ok = next(response for status, response in responses.items() if str(status) == "200")
            if sibling:
                self.csv_sibling(path, operation, ok)
            elif csv_elsewhere:
                del ok["content"][CSV]
            parameters = operation.get("parameters", [])
            operation["operationId"] = operation_id(view_class, parameters) + ("_csv" if sibling else "")
            for parameter in parameters:
                if parameter["name"] == "format" and "json" in parameter["schema"].get("enum", ["json"]):
                    parameter["schema"]["enum"] = ["json"]
                    parameter["description"] = (
                        f"json, the default. The CSV has its own operation at {path}{SUFFIX}; format=csv and Accept: "
                        "text/csv are still answered here with the same CSV (v1 removes nothing)." if csv_elsewhere
                        else "This operation answers JSON only.")
            cached = getattr(function, "cached", False)
            limited = limiter.exempt not in getattr(view_class, "decorators", ())
            ok["headers"] = header_refs(("X-Request-ID", "Cache-Control", *(VALIDATORS if cached else ()),
                                         *paging_headers(parameters), *(RATE_LIMIT if limited else ())))
            for status, name, applies in ((304, "NOT_MODIFIED", cached), (429, "TOO_MANY_REQUESTS", limited),
                                          (503, "SERVICE_UNAVAILABLE", cached)):
                if applies:
                    responses.setdefault(status, self.spec.components.get_ref("response", name))
            self.add_example(path, operation, ok)

    @staticmethod
    def csv_sibling(path: str, operation: dict, ok: dict) -> None:
        """The operation at a path + SUFFIX: the CSV of the one at the path, without its `format` parameter."""
        operation["parameters"] = [p for p in operation.get("parameters", []) if p["name"] != "format"]
        ok["content"] = {CSV: ok["content"][CSV]}
        operation["summary"] += ", as CSV"
        operation["description"] = (f"The CSV of `GET {path.removesuffix(SUFFIX)}` (what it answers to format=csv)."
                                    + (f"\n\n{operation['description']}" if "description" in operation else ""))

    def example_arguments(self, path: str) -> dict[str, str]:
        """The path and query arguments of the operation's example request, if it has one."""
        example = self.examples.get(path.removesuffix(SUFFIX))
        if example is None:
            return {}
        url = urlsplit(example["request"])
        return {**dict(parse_qsl(url.query)), **self.app.url_map.bind("localhost").match(url.path)[1]}

    def add_example(self, path: str, operation: dict, ok: dict) -> None:
        given = self.example_arguments(path)
        for parameter in operation.get("parameters", []):
            if parameter["name"] in given:
                value = given[parameter["name"]]
                parameter["example"] = value.split(",") if parameter.get("explode") else value
        example = self.examples.get(path.removesuffix(SUFFIX), {})
        for content_type, key in (("application/json", "response"), ("text/csv", "csv")):
            if content_type in ok.get("content", {}) and key in example:
                ok["content"][content_type]["example"] = example[key]
