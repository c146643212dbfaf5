"""Trade partners, exports by destination, and the releases (vintages) of a series."""

import marshmallow as ma
from marshmallow import fields, validate
from webargs.fields import DelimitedList

from models.stats import TIES
from schemas.common import (
    AS_OF,
    YEARS,
    Figure,
    FormatArgs,
    PageArgs,
    PageMetaSchema,
    PlaceSchema,
    SourceSchema,
    YearRangeArgs,
)
from schemas.stats import ExcludedSchema

KINDS = ["country", "continent", "bloc", "group", "world", "unallocated"]
RELEASE = fields.String(validate=validate.Length(1, 64), metadata={
    "description": "One release (dataset id) instead of the newest of the series of state exports by destination, "
                   "e.g. census-top25-partners-2017-2020 for Census's top-25 table."})


class PartnerQueryArgs(PageArgs):
    kind = DelimitedList(fields.String(validate=validate.OneOf(KINDS)), validate=validate.Length(1, 6), metadata={
        "description": "Comma-separated kinds: country, continent, bloc, group (continent and bloc), world, "
                       "unallocated (default: all)."})
    q = fields.String(validate=validate.Length(1, 100), metadata={"description": "Words in any of its names."})


class CodeSchema(ma.Schema):
    code = fields.String()
    system = fields.String(metadata={"description": "iso2 (ISO 3166-1 alpha-2), iso3, census (Census country code)."})


class PartnerRefSchema(ma.Schema):
    code = fields.String()
    name = fields.String()


class PartnerSchema(ma.Schema):
    code = fields.String(metadata={"description": (
        "The canonical code: ISO 3166-1 alpha-3, a code of ISO's user-assigned range (X..) where ISO has none, WLD "
        "for the world, G-… for a group.")})
    name = fields.String(metadata={"description": "The Census name as published."})
    kind = fields.String(metadata={"description": "world, country, continent, bloc, or unallocated (exports Census "
                                                  "could not attribute to a country)."})
    iso2 = fields.String(allow_none=True)
    iso3 = fields.String(allow_none=True)
    names = fields.List(fields.String(), metadata={"description": "Every spelling the sources used."})
    codes = fields.List(fields.Nested(CodeSchema), metadata={"description": "Other codes partner= accepts."})
    members = fields.List(fields.Nested(PartnerRefSchema), metadata={
        "description": "A group's countries, as USA Trade Online defines them (verified against its figures)."})
    groups = fields.List(fields.Nested(PartnerRefSchema), metadata={"description": "The groups a country is in."})


class PartnerPageSchema(ma.Schema):
    data = fields.List(fields.Nested(PartnerSchema))
    meta = fields.Nested(PageMetaSchema)


class PartnerCoverageSchema(ma.Schema):
    dataset = fields.String()
    first_year = fields.Integer()
    last_year = fields.Integer()
    figures = fields.Integer(metadata={"description": "Figures for this partner (places and years)."})


class PartnerDetailSchema(PartnerSchema):
    datasets = fields.List(fields.Nested(PartnerCoverageSchema))


class StatePartnersArgs(FormatArgs):
    year = fields.Integer(validate=YEARS, metadata={"description": "Default: the latest year with figures."})
    kind = DelimitedList(fields.String(validate=validate.OneOf(["country", "continent", "bloc", "group",
                                                               "unallocated"])),
                         validate=validate.Length(1, 5), metadata={
        "description": "Kinds of partner ranked: country (default), continent, bloc, group (continent and bloc), "
                       "unallocated (Unidentified Countries). Groups overlap countries and each other."})
    limit = fields.Integer(load_default=25, validate=validate.Range(1, 300))
    as_of = AS_OF
    dataset = RELEASE


class PartnerStatesArgs(FormatArgs):
    year = fields.Integer(validate=YEARS, metadata={"description": "Default: the latest year with figures."})
    limit = fields.Integer(load_default=60, validate=validate.Range(1, 100))
    as_of = AS_OF
    dataset = RELEASE


class PartnerExportsArgs(YearRangeArgs):
    as_of = AS_OF
    dataset = RELEASE


class ReleaseRefSchema(ma.Schema):
    dataset = fields.String()
    released_on = fields.Date(allow_none=True)


class WorldSchema(ReleaseRefSchema):
    value = Figure(allow_none=True)
    status = fields.String()


class RankedPartnerSchema(ma.Schema):
    rank = fields.Integer()
    code = fields.String()
    name = fields.String()
    kind = fields.String()
    value = Figure()
    status = fields.String()
    share = fields.Float(allow_none=True, metadata={"description": "Percent of the denominator, 6 decimals."})
    dataset = fields.String(metadata={"description": "The release the figure comes from."})
    released_on = fields.Date(allow_none=True)


class StatePartnersSchema(ma.Schema):
    geography = fields.Nested(PlaceSchema)
    year = fields.Integer()
    as_of = fields.Date(allow_none=True)
    kinds = fields.List(fields.String())
    sources = fields.List(fields.Nested(SourceSchema))
    denominator = fields.String()
    world = fields.List(fields.Nested(WorldSchema), metadata={
        "description": "The state's exports to the world in each release a figure comes from: the denominators."})
    ties = fields.String(dump_default=TIES)
    ranked = fields.Integer(metadata={"description": "Partners ranked (before `limit`)."})
    excluded = fields.List(fields.Nested(ExcludedSchema))
    data = fields.List(fields.Nested(RankedPartnerSchema))


class ReleaseTotalSchema(ReleaseRefSchema):
    states = fields.Integer(metadata={"description": "States with a figure."})
    states_total = Figure(metadata={"description": "The sum of the states' figures."})
    national_total = Figure(allow_none=True, metadata={"description": "The release's All States row."})
    unallocated = Figure(allow_none=True, metadata={
        "description": "What no state was credited with: the release's Unknown row, else national_total less "
                       "states_total."})
    unallocated_status = fields.String(allow_none=True)
    reason = fields.String(allow_none=True, metadata={"description": "Why national_total is null."})


class RankedStateSchema(ma.Schema):
    rank = fields.Integer()
    code = fields.String(metadata={"description": "FIPS code."})
    usps = fields.String()
    name = fields.String()
    value = Figure()
    status = fields.String()
    share = fields.Float(allow_none=True, metadata={"description": "Percent of states_total, 6 decimals."})
    dataset = fields.String()
    released_on = fields.Date(allow_none=True)


class PartnerStatesSchema(ma.Schema):
    partner = fields.Nested(PartnerRefSchema)
    year = fields.Integer()
    as_of = fields.Date(allow_none=True)
    sources = fields.List(fields.Nested(SourceSchema))
    denominator = fields.String()
    totals = fields.List(fields.Nested(ReleaseTotalSchema))
    ties = fields.String(dump_default=TIES)
    ranked = fields.Integer()
    excluded = fields.List(fields.Nested(ExcludedSchema))
    data = fields.List(fields.Nested(RankedStateSchema))


class NationalPointSchema(ReleaseTotalSchema):
    year = fields.Integer()
    value = Figure(allow_none=True, metadata={"description": "The national total (All States), or null."})
    status = fields.String()


class DefinitionsSchema(ma.Schema):
    value = fields.String()
    states_total = fields.String()
    unallocated = fields.String()


class PartnerExportsSchema(ma.Schema):
    partner = fields.Nested(PartnerRefSchema)
    as_of = fields.Date(allow_none=True)
    series = fields.String()
    sources = fields.List(fields.Nested(SourceSchema))
    definitions = fields.Nested(DefinitionsSchema)
    data = fields.List(fields.Nested(NationalPointSchema))
