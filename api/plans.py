"""Export plans of the Metropolitan Export Initiative and their measured progress."""

from flask.views import MethodView
from sqlalchemy import select

from api import db, lookups
from api.caching import cached
from api.formats import csv_columns
from api.pagination import paginate
from api.problems import Blueprint, not_found
from models import ExportPlan, Geography, geography_states
from models.observation import series
from models.plan import BASIS_NOTE, progress
from schemas.common import FormatArgs
from schemas.plans import PlanDetailSchema, PlanPageSchema, PlanQueryArgs, ProgressSchema

blp = Blueprint("export_plans", __name__, url_prefix="/v1/export-plans",
                description="Export plans of the Metropolitan Export Initiative (2012 pilots, 2013 exchange, "
                            "2015 Global Cities Exchange).")

SERIES = "ita-metro-exports"


def plan(slug: str) -> ExportPlan:
    found = db.session.get(ExportPlan, slug)
    if found is None:
        not_found(f"No export plan has the slug '{slug}'.", "The plans are listed at /v1/export-plans")
    return found


@blp.route("")
class Plans(MethodView):
    @blp.arguments(PlanQueryArgs(), location="query")
    @cached
    @blp.response(200, PlanPageSchema)
    @csv_columns("slug", "cohort", "metro_name", "cbsa", "cbsa_name", "title", "released_on")
    def get(self, args):
        """List export plans and participating metros"""
        query = select(ExportPlan).join(Geography, Geography.id == ExportPlan.geography_id)
        if "cohort" in args:
            query = query.where(ExportPlan.cohort == args["cohort"])
        if "metro" in args:
            query = query.where(Geography.code == args["metro"])
        if "state" in args:
            state = lookups.state(args["state"], "state")
            query = query.where(ExportPlan.geography_id.in_(
                select(geography_states.c.geography_id).where(geography_states.c.state_id == state.id)))
        return paginate(query.order_by(ExportPlan.cohort, ExportPlan.slug), args["page"], args["page_size"])


@blp.route("/<slug>")
class Plan(MethodView):
    @blp.arguments(FormatArgs(), location="query")
    @blp.alt_response(404, response="NOT_FOUND")
    @cached
    @blp.response(200, PlanDetailSchema)
    def get(self, args, slug):
        """Get an export plan: lead, partners, goal, baseline and target, strategies, sources, the metro"""
        return plan(slug)


@blp.route("/<slug>/progress")
class PlanProgress(MethodView):
    @blp.arguments(FormatArgs(), location="query")
    @blp.alt_response(404, response="NOT_FOUND")
    @cached
    @blp.response(200, ProgressSchema)
    @csv_columns("plan.slug", "plan.cbsa", "year", "value", "status", "index", "on_track_value", rows="years")
    def get(self, args, slug):
        """Measure a plan's goal against the metro's ITA goods exports each year since its baseline"""
        found = plan(slug)
        rows = db.session.execute(series(found.geography_id, ["exports_goods"], SERIES)).all()
        result = progress(found, {r.year: r.value for r in rows}, {r.year: r.status for r in rows})
        schema = PlanDetailSchema()
        result.update(plan=found, baseline=schema._baseline(found), target=schema._target(found),
                      series=lookups.source(SERIES), indicator="exports_goods",
                      basis_note=BASIS_NOTE.format(basis=found.baseline_basis or "unstated"))
        return result
