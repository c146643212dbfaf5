"""Export plans of the Metropolitan Export Initiative and their measured progress."""

from flask.views import MethodView

from api import db, lookups
from api.caching import cached
from api.formats import csv_columns
from api.pagination import paginate
from api.problems import Blueprint, not_found
from models import ExportPlan
from models.plan import DATASET, INDICATOR, plan_series, plans, progress
from schemas.common import FormatArgs
from schemas.plans import PlanDetailSchema, PlanPageSchema, PlanQueryArgs, ProgressSchema

blp = Blueprint("export_plans", __name__, url_prefix="/v1/export-plans",
                description="Export plans of the Metropolitan Export Initiative (2012 pilots, 2013 exchange) and "
                            "the Global Cities Exchange (2013-2015).")


def plan(slug: str) -> ExportPlan:
    found = db.session.get(ExportPlan, slug)
    if found is None:
        merged = next((p.slug for p in db.session.scalars(plans()) if slug in p.former_slugs), None)
        hint = (f"'{slug}' is now part of the joint site's plan: /v1/export-plans/{merged}" if merged
                else "The plans are listed at /v1/export-plans")
        not_found(f"No export plan has the slug '{slug[:64]}'.", hint)
    return found


@blp.route("")
class Plans(MethodView):
    @blp.arguments(PlanQueryArgs(), location="query")
    @cached
    @blp.response(200, PlanPageSchema)
    @csv_columns("slug", "cohort", "metro_name", "cbsas", "cbsa_names", "title", "released_on")
    def get(self, args):
        """List export plans and participating sites"""
        state = lookups.state(args["state"], "state").id if "state" in args else None
        return paginate(plans(args.get("cohort"), args.get("metro"), state), args["page"], args["page_size"])


@blp.route("/<slug>")
class Plan(MethodView):
    @blp.arguments(FormatArgs(), location="query")
    @blp.alt_response(404, response="NOT_FOUND")
    @cached
    @blp.response(200, PlanDetailSchema)
    def get(self, args, slug):
        """Get an export plan: cohort, lead, partners, goal, baseline and target, what is unknown, the metros"""
        return plan(slug)


@blp.route("/<slug>/progress")
class PlanProgress(MethodView):
    @blp.arguments(FormatArgs(), location="query")
    @blp.alt_response(404, response="NOT_FOUND")
    @cached
    @blp.response(200, ProgressSchema)
    @csv_columns("plan.slug", "plan.cbsas", "year", "value", "status", "index", "on_track_value", rows="years")
    def get(self, args, slug):
        """Measure a plan's goal against its metros' ITA goods exports (summed for a joint site) each year"""
        found = plan(slug)
        result = progress(found, db.session.execute(plan_series(slug)).all())
        return {**result, "plan": found, "series": lookups.source(DATASET), "indicator": INDICATOR}
