"""Export plans of the Metropolitan Export Initiative."""

import marshmallow as ma
from marshmallow import fields, validate

from schemas.common import ChangeSchema, Figure, PageArgs, PageMetaSchema, SourceSchema
from schemas.places import MetroSchema

COHORTS = ["pilot-2012", "exchange-2013", "global-cities-2015"]


class PlanQueryArgs(PageArgs):
    cohort = fields.String(validate=validate.OneOf(COHORTS))
    state = fields.String(validate=validate.Length(1, 30), metadata={"description": "USPS or FIPS code."})
    metro = fields.String(validate=validate.Regexp(r"^\d{5}$"), metadata={"description": "CBSA code."})


class AmountSchema(ma.Schema):
    value = fields.Integer(allow_none=True, metadata={"description": "Whole US dollars."})
    year = fields.Integer(allow_none=True)


class BaselineSchema(AmountSchema):
    basis = fields.String(allow_none=True, metadata={"description": "What the figure counts, e.g. goods and services."})


class TargetSchema(AmountSchema):
    note = fields.String(allow_none=True)


class PlanSchema(ma.Schema):
    slug = fields.String()
    cohort = fields.String(validate=validate.OneOf(COHORTS))
    metro_name = fields.String(metadata={"description": "The metro as the programme names it."})
    cbsa = fields.String(attribute="geography.code")
    cbsa_name = fields.String(attribute="geography.name")
    title = fields.String(allow_none=True)
    released_on = fields.Date(allow_none=True)


class PlanDetailSchema(PlanSchema):
    release_note = fields.String(allow_none=True)
    lead_organisation = fields.String(allow_none=True)
    partners = fields.List(fields.String(), allow_none=True)
    goal = fields.String(allow_none=True)
    baseline = fields.Method("_baseline", metadata={"type": "object"})
    target = fields.Method("_target")
    strategies = fields.List(fields.String(), allow_none=True)
    sources = fields.List(fields.String())
    note = fields.String(allow_none=True)
    metro = fields.Nested(MetroSchema, attribute="geography")
    links = fields.Method("_links")

    def _baseline(self, plan):
        if plan.baseline_value is None:
            return None
        return {"value": plan.baseline_value, "year": plan.baseline_year, "basis": plan.baseline_basis}

    def _target(self, plan):
        if plan.target_value is None:
            return None
        return {"value": plan.target_value, "year": plan.target_year, "note": plan.target_note}

    def _links(self, plan):
        code = plan.geography.code
        return {"metro": f"/v1/metros/{code}", "exports": f"/v1/metros/{code}/exports",
                "progress": f"/v1/export-plans/{plan.slug}/progress"}


class PlanPageSchema(ma.Schema):
    data = fields.List(fields.Nested(PlanSchema))
    meta = fields.Nested(PageMetaSchema)


class ProgressYearSchema(ma.Schema):
    year = fields.Integer()
    value = Figure(allow_none=True)
    status = fields.String()
    index = fields.Float(allow_none=True, metadata={"description": "Value as an index, start year = 100."})
    on_track_value = Figure(allow_none=True, metadata={
        "description": "Where the series would be growing at the plan's required rate from the start year."})


class ProgressSchema(ma.Schema):
    plan = fields.Nested(PlanSchema)
    baseline = fields.Dict(allow_none=True)
    target = fields.Dict(allow_none=True)
    series = fields.Nested(SourceSchema, metadata={"description": "The series progress is measured on."})
    indicator = fields.String()
    basis_note = fields.String(metadata={"description": "How the plan's basis and the series' basis differ."})
    start_year = fields.Integer()
    target_multiple = fields.Float(allow_none=True, metadata={"description": "Target / baseline."})
    required_cagr = fields.Float(allow_none=True, metadata={
        "description": "Growth per year (percent) needed to go from baseline to target by the target year."})
    required_cagr_reason = fields.String(allow_none=True)
    series_start_value = Figure(allow_none=True)
    series_goal_value = Figure(allow_none=True, metadata={
        "description": "The series' start value times the target multiple: the plan's goal on the series' basis."})
    achieved = fields.Nested(ChangeSchema, allow_none=True, metadata={
        "description": "Change of the series from the start year to its latest figure."})
    goal_reached = fields.Boolean(allow_none=True)
    goal_reached_in = fields.Integer(allow_none=True)
    notes = fields.List(fields.String())
    years = fields.List(fields.Nested(ProgressYearSchema))
