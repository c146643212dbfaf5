"""Code lists: industries, trade partners, and the datasets the figures come from."""

from flask.views import MethodView

from api import lookups
from api.caching import cached
from api.formats import csv_columns
from api.pagination import paginate
from api.problems import Blueprint
from models.dataset import datasets_query
from models.observation import industries, partners
from schemas.codes import DatasetPageSchema, DatasetSchema, IndustryPageSchema, IndustryQueryArgs, PartnerPageSchema
from schemas.common import FormatArgs, PageArgs

blp = Blueprint("codes", __name__, url_prefix="/v1", description="Industries, partners and datasets.")


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


@blp.route("/partners")
class Partners(MethodView):
    @blp.arguments(PageArgs(), location="query")
    @cached
    @blp.response(200, PartnerPageSchema)
    @csv_columns("code", "name", "kind")
    def get(self, args):
        """List trade partners (Census country codes, WLD for the world) found in the data"""
        return paginate(partners(), args["page"], args["page_size"])


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
