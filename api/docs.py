"""Swagger UI's assets, served from the installed flask-swagger-ui package (no CDN)."""

from pathlib import Path

import flask_swagger_ui
from flask import Blueprint

ASSETS = Path(flask_swagger_ui.__file__).parent / "dist"

blp = Blueprint("docs_assets", __name__, static_folder=str(ASSETS), static_url_path="/docs/assets")
