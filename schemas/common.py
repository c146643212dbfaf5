"""Arguments and response parts that every resource shares."""

import re
from datetime import date

import marshmallow as ma
from marshmallow import fields, validate

from models.growth import UNITS
from models.observation import figure

YEARS = validate.Range(1900, 2100)
ASCII_INTEGER = re.compile(r"-?[0-9]+")
STATUSES = ["ok", "suppressed", "not_available", "rounded", "derived", "conflicting"]

PARTNER = fields.String(load_default="WLD", validate=validate.Regexp(r"^[A-Za-z0-9][A-Za-z0-9-]{0,7}$"), metadata={
    "description": "A trade partner by any code it is known by: ISO 3166-1 alpha-3 (CAN) or alpha-2 (CA), a Census "
                   "country code (1220), G-… for a group of countries (G-EU), WLD for the world (default). "
                   "The codes are listed at /v1/partners."})
AS_OF = fields.Date(validate=validate.Range(date(1900, 1, 1), date(2100, 12, 31)),
                    metadata={"description": (
                        "YYYY-MM-DD: the figures as known on that date, from the releases of the series published by "
                        "then (the newest that covers each place and year); files without a release date are left "
                        "out. Default: every release.")})
REVISIONS = fields.Boolean(load_default=False, metadata={
    "description": "true: each point lists every release's figure of it (revisions), newest first."})


class IntegerArg(fields.Integer):
    """An integer query argument: ASCII digits, perhaps after a '-'. Python's int() would also read '２０２０',
    '2_011', '+2011' and '2011 ' as 2011."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str) or not ASCII_INTEGER.fullmatch(value):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


class FormatArgs(ma.Schema):
    # The spec offers csv only where the operation answers it (@csv_columns); api/spec.py writes the enum per operation.
    format = fields.String(validate=validate.OneOf(["json", "csv"]))


class PageArgs(FormatArgs):
    page = IntegerArg(load_default=1, validate=validate.Range(1, 1_000_000), metadata={"description": "Page, from 1."})
    page_size = IntegerArg(load_default=50, validate=validate.Range(1, 500),
                           metadata={"description": "Items per page (at most 500)."})


class YearRangeArgs(FormatArgs):
    from_ = IntegerArg(data_key="from", validate=YEARS, metadata={"description": "First year (inclusive)."})
    to = IntegerArg(validate=YEARS, metadata={"description": "Last year (inclusive)."})

    @ma.validates_schema
    def ordered(self, data, **kwargs):
        if data.get("from_") and data.get("to") and data["from_"] > data["to"]:
            raise ma.ValidationError("must not be after 'to'", "from")


class Figure(fields.Number):
    """A source value: an integer where it is whole (dollars, persons), else a decimal number; null if missing."""

    num_type = float

    def _format_num(self, value):
        return figure(value)


class PageMetaSchema(ma.Schema):
    total = fields.Integer(metadata={"description": "Items matching the request, on all pages."})
    page = fields.Integer()
    page_size = fields.Integer()
    pages = fields.Integer()


class SourceSchema(ma.Schema):
    """Where figures come from."""

    id = fields.String(metadata={"description": "Dataset id; details at /v1/datasets/{id}."})
    title = fields.String()
    publisher = fields.String()
    source_url = fields.String(allow_none=True)
    unit = fields.String(allow_none=True)
    dollar_basis = fields.String(allow_none=True, metadata={"description": "nominal, or real with its base year."})


class PlaceSchema(ma.Schema):
    kind = fields.String(metadata={"description": "nation, state, metro or unallocated."})
    code = fields.String(metadata={"description": "US, state FIPS, CBSA code, or a slug for unallocated rows."})
    name = fields.String()


class IndicatorSchema(ma.Schema):
    name = fields.String()
    title = fields.String()
    unit = fields.String()
    dollar_basis = fields.String(allow_none=True)


class PointSchema(ma.Schema):
    """One figure of a series. A missing figure is null with a status saying why — never 0."""

    year = fields.Integer()
    value = Figure(allow_none=True)
    status = fields.String(validate=validate.OneOf(STATUSES), metadata={"description": (
        "ok; suppressed (withheld by the source); not_available (no figure, e.g. the area was not defined that "
        "year); rounded (the source gives few significant digits); derived (computed from source figures, see the "
        "dataset notes); conflicting (the source gives two values)."
    )})
    dataset = fields.String()
    indicator = fields.String()
    level = Figure(allow_none=True, metadata={"description": "The source figure, when `units` is not level."})
    note = fields.String(allow_none=True, metadata={"description": (
        "Why the figure is null, where the status alone does not say (e.g. the area was not a metropolitan area "
        "in the delineation in force that year), or why a value in `units` could not be computed from the year's "
        "figure (its status is then not_available); null otherwise.")})


class UnitsArgs(ma.Schema):
    units = fields.String(load_default="level", validate=validate.OneOf(UNITS), metadata={"description": (
        "level (source figures); change and percent_change (on the year before); index (base_year = 100); "
        "share (percent of the national total, named in units_basis).")})
    base_year = IntegerArg(validate=YEARS, metadata={"description": "Base year for units=index."})

    @ma.validates_schema
    def base_for_index(self, data, **kwargs):
        if data.get("units") == "index" and "base_year" not in data:
            raise ma.ValidationError("is required with units=index", "base_year")


class PerArgs(ma.Schema):
    per = fields.String(validate=validate.OneOf(["population", "jobs", "real_gdp"]), metadata={"description": (
        "Divide each figure by the place's population (or jobs) in the same year: exports per person. The "
        "denominator's dataset is named in the response; a ratio of nominal to real dollars (real_gdp) is refused.")})

    @ma.validates_schema
    def not_a_share(self, data, **kwargs):
        if "per" in data and data.get("units") == "share":
            raise ma.ValidationError("cannot be combined with units=share", "per")


class UnitsBasisSchema(ma.Schema):
    dataset = fields.String(metadata={"description": "The dataset of the first year (see `datasets`)."})
    datasets = fields.List(fields.String(), metadata={
        "description": "Every dataset of this series, in year order: a state's Census files make one series."})
    indicator = fields.String()
    industry = fields.String()
    units = fields.String()
    reason = fields.String(allow_none=True, metadata={"description": "Why every value is null, if it is."})
    denominator = fields.String(metadata={"description": "units=share: what the national total is."})
    denominator_values = fields.Dict(keys=fields.String(), values=Figure(allow_none=True))
    base_year = fields.Integer()
    base_value = Figure(allow_none=True)
    per = fields.String(metadata={"description": "per=: the indicator each figure is divided by."})
    per_dataset = fields.String(metadata={"description": "per=: the dataset of the denominator."})
    per_values = fields.Dict(keys=fields.String(), values=Figure(allow_none=True),
                             metadata={"description": "per=: the denominator in each year (null: none)."})


class SeriesSchema(ma.Schema):
    geography = fields.Nested(PlaceSchema)
    indicators = fields.List(fields.Nested(IndicatorSchema))
    sources = fields.List(fields.Nested(SourceSchema))
    units = fields.String(dump_default="level")
    units_basis = fields.List(fields.Nested(UnitsBasisSchema))
    caveats = fields.List(fields.String(), metadata={"description": "per=: how the ratio's two sides may differ."})
    data = fields.List(fields.Nested(PointSchema))
    successor = fields.Nested(PlaceSchema, allow_none=True, metadata={
        "description": "A metro series of a retired CBSA code: the current CBSA holding most of its land (also a "
                       "Link header, rel=\"successor\"); null for a current one."})
    hint = fields.String(metadata={"description": "Why a metro series has no figures."})


class SeriesPanelSchema(ma.Schema):
    series = fields.List(fields.Nested(SeriesSchema), metadata={"description": "One series per place, as asked."})


class ChangeSchema(ma.Schema):
    start_year = fields.Integer()
    end_year = fields.Integer()
    start_value = Figure(allow_none=True)
    end_value = Figure(allow_none=True)
    absolute = Figure(allow_none=True)
    percent = fields.Float(allow_none=True, metadata={"description": "Percent change, 6 decimals."})
    cagr = fields.Float(allow_none=True, metadata={"description": "Compound annual growth rate, percent."})
    reasons = fields.List(fields.String(), metadata={"description": "Why a figure is null."})
    formula = fields.String()
