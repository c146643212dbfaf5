"""Code lists: industries, and the datasets the figures come from with the releases of their series."""

from flask.views import MethodView

from api import db, lookups
from api.caching import cached
from api.formats import csv_columns
from api.pagination import paginate
from api.problems import Blueprint
from models import figures
from models.dataset import datasets_query
from models.observation import industries
from models.vintages import releases, series_named, vintages_body
from schemas.codes import DatasetPageSchema, DatasetSchema, IndustryPageSchema, IndustryQueryArgs, VintagesSchema
from schemas.common import FormatArgs, PageArgs

blp = Blueprint("codes", __name__, url_prefix="/v1", description="Industries and datasets.")


@blp.route("/industries")
class Industries(MethodView):
    @blp.arguments(IndustryQueryArgs(), location="query")
    @cached
    @blp.response(200, IndustryPageSchema)
    @csv_columns("code", "title", "level", "classification")
    def get(self, args):
        """List industry codes (NAICS, HS) found in the data"""
        return paginate(industries(args.get("level"), args.get("classification"), args.get("q")),
                        args["page"], args["page_size"])


@blp.route("/datasets")
class Datasets(MethodView):
    @blp.arguments(PageArgs(), location="query")
    @cached
    @blp.response(200, DatasetPageSchema)
    @csv_columns("id", "title", "publisher", "source_url", "source_file", "license", "unit", "dollar_basis",
                 "coverage", "delineation", "sha256", "loaded_at", "row_count")
    def get(self, args):
        """List the loaded datasets with their provenance"""
        return paginate(datasets_query(), args["page"], args["page_size"])


@blp.route("/datasets/<id>")
class Dataset(MethodView):
    @blp.arguments(FormatArgs(), location="query")
    @blp.alt_response(404, response="NOT_FOUND")
    @cached
    @blp.response(200, DatasetSchema)
    def get(self, args, id):
        """Get a dataset: source, publisher, checksum, caveats"""
        return lookups.dataset(id)


@blp.route("/datasets/<id>/vintages")
class DatasetVintages(MethodView):
    @blp.arguments(FormatArgs(), location="query")
    @blp.alt_response(404, response="NOT_FOUND")
    @cached
    @blp.response(200, VintagesSchema)
    @csv_columns("id", "released_on", "release", "first_year", "last_year", "places", "partners", "figures", "newest",
                 rows="releases")
    def get(self, args, id):
        """List the releases (vintages) of the series a dataset belongs to (a dataset or a series id), newest first"""
        found = db.session.scalar(series_named(id))
        if found is None:
            lookups.source(id)  # a 404
        return vintages_body(found, db.session.scalars(releases(found)).all(),
                             figures.release_coverage(db.snapshot(), found))
