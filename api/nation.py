"""The nation: its national series, with the basis each dataset gives it."""

from flask.views import MethodView

from api import lookups
from api.caching import cached
from api.db import snapshot
from api.formats import csv_columns, encoded
from api.problems import Blueprint
from models import figures
from models.series import nation_body
from schemas.places import NationExportsArgs, NationSeriesSchema

blp = Blueprint("nation", __name__, url_prefix="/v1/nation", description="The United States as a whole.")


@blp.route("/exports")
class NationExports(MethodView):
    @blp.arguments(NationExportsArgs(), location="query")
    @cached
    @blp.response(200, NationSeriesSchema)
    @csv_columns("geography.code", "geography.name", "dataset", "indicator", "year", "value", "status", "units",
                 "level")
    def get(self, args):
        """Get the nation's annual exports in a dataset, with their basis (the dataset's own total, or the sum of its
        places) and the territory it covers"""
        dataset = lookups.source(args["dataset"]).id
        lookups.industries([args["industry"]])
        nation = figures.nation(snapshot(), dataset, lookups.exports_indicator(dataset), args["industry"])
        return encoded(nation_body(nation, lookups.sources([dataset]), args, lookups.denominators))
