"""CORS: any origin may read the API (GET, HEAD, OPTIONS), without credentials."""

from flask import Flask, Response, request

EXPOSED = ("ETag, Last-Modified, Link, X-Total-Count, X-Request-ID, RateLimit, RateLimit-Policy, "
           "X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset, Retry-After, Content-Disposition, "
           "X-Data-Version, X-Source-SHA256")


def init_app(app: Flask) -> None:
    @app.after_request
    def cors(response: Response) -> Response:
        response.headers.extend((("Access-Control-Allow-Origin", "*"), ("Access-Control-Expose-Headers", EXPOSED)))
        if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
            response.headers["Access-Control-Allow-Methods"] = "GET, HEAD, OPTIONS"
            response.headers["Access-Control-Allow-Headers"] = request.headers.get(
                "Access-Control-Request-Headers", "Accept, If-None-Match")
            response.headers["Access-Control-Max-Age"] = "86400"
        return response
