"""Headers for a JSON API, request size limits, and a request id on every response and log line."""

import re
import uuid

from flask import Flask, Response, g, request
from flask_smorest import abort

API_CSP = "default-src 'none'; frame-ancestors 'none'"
# Swagger UI: its own scripts and styles (one inline bootstrap script), images, and calls to this API.
DOCS_CSP = ("default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data:; connect-src 'self'; font-src 'self'; frame-ancestors 'none'")
REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def init_app(app: Flask) -> None:
    @app.before_request
    def request_id():
        given = request.headers.get("X-Request-ID", "")
        g.request_id = given if REQUEST_ID.match(given) else uuid.uuid4().hex
        if (request.content_length or 0) > app.config["MAX_CONTENT_LENGTH"]:
            abort(413, message=f"Request bodies are limited to {app.config['MAX_CONTENT_LENGTH']} bytes; this API "
                               "reads none.")

    @app.after_request
    def headers(response: Response) -> Response:
        response.headers["X-Request-ID"] = g.get("request_id") or uuid.uuid4().hex
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        docs = request.path == "/docs" or request.path.startswith("/docs/")
        response.headers["Content-Security-Policy"] = DOCS_CSP if docs else API_CSP
        if request.method not in ("GET", "HEAD") and "Cache-Control" not in response.headers:
            response.headers["Cache-Control"] = "no-store"
        return response
