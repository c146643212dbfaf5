"""Growth, rankings, the national summary and concentration."""

import marshmallow as ma
from marshmallow import fields, validate

from models.stats import TIES
from models.territory import SCOPES
from schemas.common import (
    AS_OF,
    PARTNER,
    YEARS,
    ChangeSchema,
    Figure,
    FormatArgs,
    IndicatorSchema,
    IntegerArg,
    PageMetaSchema,
    PerArgs,
    PlaceSchema,
    SourceSchema,
)

INDUSTRY = validate.Regexp(r"^(ALL|\d{1,6}|\d{2}-\d{2}|HS\d{2,10})$")
LATEST = "Default: the latest year the dataset has figures for."
FIRST, LAST = "Default: the first year the dataset has figures for.", "Default: the last year the dataset has figures for."


class GrowthArgs(FormatArgs):
    from_ = IntegerArg(data_key="from", validate=YEARS, metadata={"description": f"Start year. {FIRST}"})
    to = IntegerArg(validate=YEARS, metadata={"description": f"End year. {LAST}"})
    dataset = fields.String(validate=validate.Length(1, 64),
                            metadata={"description": "Dataset id (metros: ita-metro-exports by default)."})

    @ma.validates_schema
    def ordered(self, data, **kwargs):
        if data.get("from_") is not None and data.get("to") is not None and data["from_"] > data["to"]:
            raise ma.ValidationError("must not be after 'to'", "from")


class MetroGrowthArgs(GrowthArgs):
    as_of = AS_OF


class StateGrowthArgs(GrowthArgs):
    industry = fields.String(load_default="ALL", validate=INDUSTRY)
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
    year = IntegerArg(validate=YEARS, metadata={"description": f"Year of by=value and by=share. {LATEST}"})
    from_ = IntegerArg(data_key="from", validate=YEARS,
                           metadata={"description": f"Start year of by=growth and by=cagr. {FIRST}"})
    to = IntegerArg(validate=YEARS, metadata={"description": f"End year of by=growth and by=cagr. {LAST}"})
    dataset = fields.String(validate=validate.Length(1, 64))
    min_base = IntegerArg(load_default=0, validate=validate.Range(0, 10**15), metadata={
        "description": "Leave out places whose base (the start value for growth and cagr, else the value) is "
                       "below this many dollars."})
    page = IntegerArg(load_default=1, validate=validate.Range(1, 1_000_000), metadata={"description": "Page, from 1."})
    page_size = IntegerArg(load_default=50, validate=validate.Range(1, 1000),
                               metadata={"description": "Places per page (at most 1000)."})
    limit = IntegerArg(validate=validate.Range(1, 1000), metadata={
        "description": "The former name of page_size, still accepted.", "deprecated": True})
    order = fields.String(load_default="desc", validate=validate.OneOf(["desc", "asc"]))
    excluded_limit = IntegerArg(load_default=20, validate=validate.Range(0, 5000), metadata={"description": (
        "How many of the excluded places to list, in code order (at most 5000: every one; excluded_count says how "
        "many there are and excluded_reasons how many for each reason).")})
    per = PerArgs._declared_fields["per"]

    @ma.validates_schema(pass_original=True)
    def consistent(self, data, original, **kwargs):
        if "limit" in original and "page_size" in original:
            raise ma.ValidationError("give page_size or limit (its former name), not both", "limit")
        if data["by"] in ("growth", "cagr") and data.get("from_") is not None and data.get("to") is not None \
                and data["from_"] >= data["to"]:
            raise ma.ValidationError("must be before 'to'", "from")
        if "per" in data and data["by"] != "value":
            raise ma.ValidationError("per= ranks by=value only", "per")

    @ma.post_load
    def page_size_from_limit(self, data, **kwargs):
        if "limit" in data:
            data["page_size"] = data.pop("limit")
        return data


class MetroRankingArgs(RankingArgs):
    type = fields.String(validate=validate.OneOf(["metropolitan", "micropolitan"]))
    state = fields.String(validate=validate.Length(1, 30), metadata={
        "description": "Only metros with this principal state (USPS OR or FIPS 41), ranked among themselves."})
    as_of = fields.Date(validate=AS_OF.validate, metadata={"description": (
        "YYYY-MM-DD: rank the newest release of ITA's series published by then (ita-metro-exports-2012-2021 from "
        "2023-01-31, ita-metro-exports from 2025-03-08).")})


class StateRankingArgs(RankingArgs):
    industry = fields.String(load_default="ALL", validate=INDUSTRY)
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
    reason_code = fields.String(metadata={"description": (
        "Why, as a code: the missing figure's status (suppressed, not_available, conflicting), below_min_base, "
        "no_national_total, outside_territory (by=share: a place whose share is of another territory's total), "
        "no_denominator, or undefined (a growth rate from a zero or negative base).")})


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
    ranked = fields.Integer(metadata={"description": "Places ranked, on all pages (meta.total)."})
    excluded_count = fields.Integer(metadata={"description": "Places left out, all of them."})
    excluded_reasons = fields.Dict(keys=fields.String(), values=fields.Integer(), metadata={
        "description": "How many places were left out for each reason_code."})
    excluded = fields.List(fields.Nested(ExcludedSchema), metadata={
        "description": "The first `excluded_limit` places left out, in code order."})
    caveats = fields.List(fields.String())
    meta = fields.Nested(PageMetaSchema)
    data = fields.List(fields.Nested(RankedSchema))


class SummaryArgs(FormatArgs):
    year = IntegerArg(validate=YEARS, metadata={"description": LATEST})
    base_year = IntegerArg(validate=YEARS, metadata={"description": "Default: the year before `year`."})
    threshold = IntegerArg(load_default=1_000_000_000, validate=validate.Range(0, 10**15),
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
    above_threshold = fields.Integer(metadata={"description": (
        "CBSAs with a figure above `threshold` in `year`; an unallocated row is never counted (until this was "
        "corrected, with_unallocated counted ITA's non-metro and other-metro rows too).")})
    share_of_national_total = fields.Float(allow_none=True, metadata={"description": "Percent, 6 decimals."})


class UnallocatedSchema(ma.Schema):
    code = fields.String()
    name = fields.String()
    part = fields.String(metadata={"description": (
        "metropolitan (ITA's other metropolitan areas: in `metropolitan`), non_metropolitan, or unassigned "
        "(crossovers, unknown location).")})
    value = Figure(allow_none=True)
    base_value = Figure(allow_none=True)


class MetroRefSchema(ma.Schema):
    code = fields.String()
    name = fields.String()


class CommonSetSchema(ma.Schema):
    places = fields.Integer(metadata={"description": "CBSAs with a figure in both years."})
    only_in_year = fields.List(fields.Nested(MetroRefSchema))
    only_in_base_year = fields.List(fields.Nested(MetroRefSchema))
    change = fields.Nested(ChangeSchema, metadata={"description": "The change of their total."})


class SummarySchema(ma.Schema):
    dataset = fields.String()
    sources = fields.List(fields.Nested(SourceSchema))
    year = fields.Integer()
    base_year = fields.Integer()
    threshold = fields.Integer()
    national_total = Figure()
    national_total_definition = fields.String()
    metros_only = fields.Nested(AggregateSchema)
    metropolitan = fields.Nested(AggregateSchema, metadata={"description": (
        "Every metropolitan area as the source defines it: the CBSAs it names and ITA's 'Other Metropolitan "
        "Areas' row, without the non-metropolitan, crossover and unknown rows.")})
    with_unallocated = fields.Nested(AggregateSchema)
    metros_in_both_years = fields.Nested(CommonSetSchema, metadata={"description": (
        "The CBSAs with a figure in both years, and those with one in only one: when the two years cover different "
        "sets, the change over the common set compares like with like.")})
    unallocated = fields.List(fields.Nested(UnallocatedSchema))
    caveats = fields.List(fields.String())


TERRITORY = {"description": (
    "The territory shares cover, numerator and denominator alike: states_dc (the 50 states and DC) or "
    "states_dc_pr (with Puerto Rico, the default). A measure whose sources give no national figure over it "
    "uses the other territory and says why (territory_reason): real GDP and jobs have no Puerto Rico figures, "
    "ITA's exports no total without Puerto Rico.")}


class ConcentrationArgs(FormatArgs):
    top = IntegerArg(load_default=10, validate=validate.Range(1, 500))
    rank_by = fields.String(load_default="population", validate=validate.OneOf(
        ["population", "real_gdp", "jobs", "exports", "exports_goods", "land_area"]), metadata={"description": (
        "The measure the metros are ranked by; exports (ITA goods exports, as sort=exports and rankings; "
        "exports_goods is its former name, still accepted). Population, real GDP and jobs have figures for "
        "2009-2019 at most: the error names the years that have them.")})
    year = IntegerArg(validate=YEARS, metadata={"description": (
        "Default: the latest year with figures of rank_by for metros (land_area: of ITA exports).")})
    territory = fields.String(load_default="states_dc_pr", validate=validate.OneOf(sorted(SCOPES)),
                              metadata=TERRITORY)


class MemberSchema(ma.Schema):
    rank = fields.Integer()
    code = fields.String(metadata={"description": "CBSA code in the delineation in force for the year."})
    name = fields.String(metadata={"description": "Title in the delineation in force for the year."})
    value = Figure()
    territory = fields.String(metadata={"description": "states_dc, or the territory's USPS code (PR)."})


class CodeFiguresSchema(ma.Schema):
    code = fields.String(metadata={"description": "The CBSA, as the delineation in force codes it."})
    figures_of = fields.String(metadata={"description": "The code the source files its figures under."})


class ShareSchema(ma.Schema):
    measure = fields.String()
    dataset = fields.String(allow_none=True, metadata={"description": "Where the members' figures come from."})
    denominator_dataset = fields.String(metadata={"description": "Where the national figure comes from."})
    territory = fields.String(metadata={
        "description": "The territory both the numerator (members inside it) and the denominator cover."})
    territory_reason = fields.String(allow_none=True, metadata={
        "description": "Why it is not the territory asked for (the sources give no national figure over that one)."})
    top_total = Figure(allow_none=True, metadata={"description": "Sum over the members inside `territory`."})
    denominator = Figure(allow_none=True)
    denominator_definition = fields.String(metadata={"description": "What the national figure is and covers."})
    share = fields.Float(allow_none=True, metadata={"description": "Percent, 6 decimals; null with a reason."})
    reason = fields.String(allow_none=True)
    members_without_figure = fields.List(fields.String())
    members_outside_territory = fields.List(fields.String(), metadata={
        "description": "Members outside `territory`, left out of top_total (Puerto Rico's, for real GDP and jobs)."})
    figures_under_other_codes = fields.List(fields.Nested(CodeFiguresSchema), metadata={
        "description": "Members whose figures the source files under another delineation's code for the same "
                       "area (ITA files Los Angeles 2010 under 31080; the 2009 delineation codes it 31100)."})


class ConcentrationSchema(ma.Schema):
    top = fields.Integer()
    rank_by = fields.String()
    year = fields.Integer()
    territory = fields.String(metadata={"description": "The territory asked for: the universe is inside it."})
    universe = fields.String(metadata={
        "description": "The metropolitan areas of the delineation in force for the year, in the territory."})
    universe_size = fields.Integer()
    ranked = fields.Integer(metadata={"description": "CBSAs of the universe with a `rank_by` figure."})
    unranked = fields.List(fields.String(), metadata={
        "description": "CBSAs of the universe without a `rank_by` figure for the year."})
    sources = fields.List(fields.Nested(SourceSchema))
    members = fields.List(fields.Nested(MemberSchema))
    shares = fields.List(fields.Nested(ShareSchema))
