"""Growth, rankings, the national summary and concentration."""

import marshmallow as ma
from marshmallow import fields, validate

from models.stats import TIES
from schemas.common import (
    AS_OF,
    PARTNER,
    YEARS,
    ChangeSchema,
    Figure,
    FormatArgs,
    IndicatorSchema,
    PlaceSchema,
    SourceSchema,
)


class GrowthArgs(FormatArgs):
    from_ = fields.Integer(data_key="from", required=True, validate=YEARS)
    to = fields.Integer(required=True, validate=YEARS)
    dataset = fields.String(validate=validate.Length(1, 64),
                            metadata={"description": "Dataset id (metros: ita-metro-exports by default)."})

    @ma.validates_schema
    def ordered(self, data, **kwargs):
        if data.get("from_") is not None and data.get("to") is not None and data["from_"] > data["to"]:
            raise ma.ValidationError("must not be after 'to'", "from")


class StateGrowthArgs(GrowthArgs):
    industry = fields.String(load_default="ALL", validate=validate.Regexp(r"^(ALL|\d{1,6}|\d{2}-\d{2}|HS\d{2,10})$"))
    partner = PARTNER
    as_of = AS_OF


class GrowthSchema(ma.Schema):
    geography = fields.Nested(PlaceSchema)
    indicator = fields.Nested(IndicatorSchema)
    industry = fields.String()
    sources = fields.List(fields.Nested(SourceSchema))
    change = fields.Nested(ChangeSchema)
    caveats = fields.List(fields.String())


class RankingArgs(FormatArgs):
    by = fields.String(load_default="value", validate=validate.OneOf(["value", "growth", "cagr", "share"]),
                       metadata={"description": "value or share in `year`; growth (percent change) or cagr from "
                                                "`from` to `to`."})
    year = fields.Integer(validate=YEARS)
    from_ = fields.Integer(data_key="from", validate=YEARS)
    to = fields.Integer(validate=YEARS)
    dataset = fields.String(validate=validate.Length(1, 64))
    min_base = fields.Integer(load_default=0, validate=validate.Range(0, 10**15), metadata={
        "description": "Leave out places whose base (the start value for growth and cagr, else the value) is "
                       "below this many dollars."})
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 1000))
    order = fields.String(load_default="desc", validate=validate.OneOf(["desc", "asc"]))

    @ma.validates_schema
    def years_for_by(self, data, **kwargs):
        if data["by"] in ("value", "share") and "year" not in data:
            raise ma.ValidationError(f"is required with by={data['by']}", "year")
        if data["by"] in ("growth", "cagr"):
            missing = [k for k in ("from_", "to") if k not in data]
            if missing:
                raise ma.ValidationError(f"is required with by={data['by']}", "from" if "from_" in missing else "to")
            if data["from_"] >= data["to"]:
                raise ma.ValidationError("must be before 'to'", "from")


class MetroRankingArgs(RankingArgs):
    type = fields.String(validate=validate.OneOf(["metropolitan", "micropolitan"]))
    as_of = AS_OF


class StateRankingArgs(RankingArgs):
    industry = fields.String(load_default="ALL", validate=validate.Regexp(r"^(ALL|\d{1,6}|\d{2}-\d{2}|HS\d{2,10})$"))
    partner = PARTNER
    as_of = AS_OF


class RankedSchema(ma.Schema):
    rank = fields.Integer()
    code = fields.String()
    name = fields.String()
    value = Figure(metadata={"description": "What is ranked: dollars, percent change, CAGR or share (percent)."})
    start_value = Figure(allow_none=True)
    end_value = Figure(allow_none=True)


class ExcludedSchema(ma.Schema):
    code = fields.String()
    name = fields.String()
    reason = fields.String()


class RankingSchema(ma.Schema):
    by = fields.String()
    year = fields.Integer(allow_none=True)
    start_year = fields.Integer(allow_none=True)
    end_year = fields.Integer(allow_none=True)
    indicator = fields.Nested(IndicatorSchema)
    industry = fields.String()
    sources = fields.List(fields.Nested(SourceSchema))
    min_base = fields.Integer()
    ties = fields.String(dump_default=TIES)
    formula = fields.String()
    denominator = fields.String(allow_none=True)
    ranked = fields.Integer(metadata={"description": "Places ranked (before `limit`)."})
    excluded_count = fields.Integer()
    excluded = fields.List(fields.Nested(ExcludedSchema))
    caveats = fields.List(fields.String())
    data = fields.List(fields.Nested(RankedSchema))


class SummaryArgs(FormatArgs):
    year = fields.Integer(required=True, validate=YEARS)
    base_year = fields.Integer(required=True, validate=YEARS)
    threshold = fields.Integer(load_default=1_000_000_000, validate=validate.Range(0, 10**15),
                               metadata={"description": "Dollars; places with exports above it are counted."})
    dataset = fields.String(load_default="ita-metro-exports", validate=validate.Length(1, 64))

    @ma.validates_schema
    def ordered(self, data, **kwargs):
        if data.get("base_year") is not None and data.get("year") is not None and data["base_year"] > data["year"]:
            raise ma.ValidationError("must not be after 'year'", "base_year")


class AggregateSchema(ma.Schema):
    rows = fields.String(metadata={"description": "Which rows this aggregate covers."})
    places_with_figure = fields.Integer()
    places_with_base_figure = fields.Integer()
    total = Figure()
    base_total = Figure()
    change = fields.Nested(ChangeSchema)
    above_threshold = fields.Integer()
    share_of_national_total = fields.Float(allow_none=True, metadata={"description": "Percent, 6 decimals."})


class UnallocatedSchema(ma.Schema):
    code = fields.String()
    name = fields.String()
    value = Figure(allow_none=True)
    base_value = Figure(allow_none=True)


class SummarySchema(ma.Schema):
    dataset = fields.String()
    sources = fields.List(fields.Nested(SourceSchema))
    year = fields.Integer()
    base_year = fields.Integer()
    threshold = fields.Integer()
    national_total = Figure()
    national_total_definition = fields.String()
    metros_only = fields.Nested(AggregateSchema)
    with_unallocated = fields.Nested(AggregateSchema)
    unallocated = fields.List(fields.Nested(UnallocatedSchema))
    caveats = fields.List(fields.String())


class ConcentrationArgs(FormatArgs):
    top = fields.Integer(load_default=10, validate=validate.Range(1, 500))
    rank_by = fields.String(load_default="population", validate=validate.OneOf(
        ["population", "real_gdp", "jobs", "exports_goods", "land_area"]))
    year = fields.Integer(required=True, validate=YEARS)


class MemberSchema(ma.Schema):
    rank = fields.Integer()
    code = fields.String()
    name = fields.String()
    value = Figure()


class ShareSchema(ma.Schema):
    measure = fields.String()
    dataset = fields.String(allow_none=True)
    top_total = Figure(allow_none=True)
    denominator = Figure(allow_none=True)
    denominator_definition = fields.String()
    share = fields.Float(allow_none=True, metadata={"description": "Percent, 6 decimals; null with a reason."})
    reason = fields.String(allow_none=True)
    members_without_figure = fields.List(fields.String())


class ConcentrationSchema(ma.Schema):
    top = fields.Integer()
    rank_by = fields.String()
    year = fields.Integer()
    universe = fields.String()
    sources = fields.List(fields.Nested(SourceSchema))
    members = fields.List(fields.Nested(MemberSchema))
    shares = fields.List(fields.Nested(ShareSchema))
