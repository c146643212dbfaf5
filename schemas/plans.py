"""Export plans of the Metropolitan Export Initiative."""

import marshmallow as ma
from marshmallow import fields, validate

from schemas.common import ChangeSchema, Figure, PageArgs, PageMetaSchema, SourceSchema
from schemas.places import MetroSchema

COHORTS = ["pilot-2012", "exchange-2013", "global-cities-2015"]


class PlanQueryArgs(PageArgs):
    cohort = fields.String(validate=validate.OneOf(COHORTS))
    state = fields.String(validate=validate.Length(1, 30), metadata={
        "description": "USPS or FIPS code: plans with a metro whose principal states include it."})
    metro = fields.String(validate=validate.Regexp(r"^\d{5}$"), metadata={
        "description": "CBSA code: plans of the metro, alone or as part of a joint site."})


class BaselineSchema(ma.Schema):
    value = fields.Integer(allow_none=True, metadata={"description": "Whole US dollars."})
    year = fields.Integer(allow_none=True)
    basis = fields.String(allow_none=True, metadata={"description": "What the figure counts, e.g. goods and services."})


class TargetSchema(ma.Schema):
    value = fields.Integer(allow_none=True, metadata={"description": "Whole US dollars."})
    year = fields.Integer(allow_none=True)
    note = fields.String(allow_none=True)


class CohortSchema(ma.Schema):
    id = fields.String(validate=validate.OneOf(COHORTS))
    name = fields.String()
    first_year = fields.Integer()
    last_year = fields.Integer()
    organisers = fields.List(fields.String())
    plan_scope = fields.String(metadata={"description": "What the cohort's plans cover, e.g. exports."})
    description = fields.String()
    sources = fields.List(fields.String())


class PlanSchema(ma.Schema):
    slug = fields.String()
    cohort = fields.String(validate=validate.OneOf(COHORTS))
    metro_name = fields.String(metadata={"description": "The site as the programme names it."})
    cbsas = fields.List(fields.String(), metadata={
        "description": "CBSA codes of the site's metros: one, or several for a joint site (Louisville and Lexington)."})
    cbsa_names = fields.List(fields.String(), metadata={"description": "Their titles, in the same order."})
    cbsa = fields.String(attribute="metro.code", metadata={"description": "The first of `cbsas` (kept from v1)."})
    cbsa_name = fields.String(attribute="metro.name", metadata={
        "description": "The first of `cbsa_names` (kept from v1)."})
    title = fields.String(allow_none=True)
    released_on = fields.Date(allow_none=True)


class PlanDetailSchema(PlanSchema):
    cohort_detail = fields.Nested(CohortSchema, metadata={"description": "What the reference says of the cohort."})
    release_note = fields.String(allow_none=True)
    lead_organisation = fields.String(allow_none=True)
    partners = fields.List(fields.String(), allow_none=True)
    goal = fields.String(allow_none=True)
    baseline = fields.Nested(BaselineSchema, allow_none=True, metadata={"description": "Null when unknown."})
    target = fields.Nested(TargetSchema, allow_none=True, metadata={"description": "Null when unknown."})
    strategies = fields.List(fields.String(), allow_none=True)
    sources = fields.List(fields.String())
    unknown = fields.Dict(keys=fields.String(), values=fields.String(), metadata={
        "description": "Each fact the reference does not give (a null field, or baseline.year and the like), with "
                       "the reason."})
    note = fields.String(allow_none=True)
    metros = fields.List(fields.Nested(MetroSchema))
    metro = fields.Nested(MetroSchema, metadata={"description": "The first of `metros` (kept from v1)."})
    links = fields.Method("_links", metadata={"type": "object", "properties": {
        "metro": {"type": "string", "description": "The first metro (kept from v1)."},
        "exports": {"type": "string", "description": "The first metro's exports (kept from v1)."},
        "metros": {"type": "array", "items": {"type": "string"}},
        "metros_exports": {"type": "array", "items": {"type": "string"}},
        "progress": {"type": "string"}}})

    def _links(self, plan):
        return {"metro": f"/v1/metros/{plan.cbsas[0]}", "exports": f"/v1/metros/{plan.cbsas[0]}/exports",
                "metros": [f"/v1/metros/{c}" for c in plan.cbsas],
                "metros_exports": [f"/v1/metros/{c}/exports" for c in plan.cbsas],
                "progress": f"/v1/export-plans/{plan.slug}/progress"}


class PlanPageSchema(ma.Schema):
    data = fields.List(fields.Nested(PlanSchema))
    meta = fields.Nested(PageMetaSchema)


class PartSchema(ma.Schema):
    cbsa = fields.String()
    value = Figure(allow_none=True)
    status = fields.String()


class ProgressYearSchema(ma.Schema):
    year = fields.Integer()
    value = Figure(allow_none=True, metadata={"description": "The series' value: the sum of the parts."})
    status = fields.String()
    index = fields.Float(allow_none=True, metadata={"description": "Value as an index, start year = 100."})
    on_track_value = Figure(allow_none=True, metadata={
        "description": "Where the series would be growing at the plan's required rate from the start year."})
    parts = fields.List(fields.Nested(PartSchema), metadata={
        "description": "Each metro's figure: one for a single metro, one per metro for a joint site."})


class ProgressSchema(ma.Schema):
    plan = fields.Nested(PlanSchema)
    baseline = fields.Nested(BaselineSchema, allow_none=True)
    target = fields.Nested(TargetSchema, allow_none=True)
    series = fields.Nested(SourceSchema, metadata={"description": "The dataset progress is measured on."})
    indicator = fields.String()
    measured_on = fields.String(metadata={
        "description": "What each year's value is: the metro's series, or the sum of a joint site's metros' series."})
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
