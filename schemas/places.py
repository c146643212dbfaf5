"""Metros, states and their query arguments."""

import marshmallow as ma
from marshmallow import fields, validate
from webargs.fields import DelimitedList

from models.growth import UNITS
from models.observation import INDICATORS
from schemas.common import (
    AS_OF,
    PARTNER,
    REVISIONS,
    YEARS,
    Figure,
    IntegerArg,
    PageArgs,
    PageMetaSchema,
    PerArgs,
    PlaceSchema,
    PointSchema,
    SeriesSchema,
    UnitsArgs,
    YearRangeArgs,
)


class MetroQueryArgs(PageArgs):
    q = fields.String(validate=validate.Length(1, 100), metadata={
        "description": "Words to find in the current or a former title (accents and case ignored)."})
    state = fields.String(validate=validate.Length(1, 30),
                          metadata={"description": "A principal state: USPS code (OR) or FIPS code (41)."})
    type = fields.String(validate=validate.OneOf(["metropolitan", "micropolitan", "unallocated"]),
                         metadata={"description": "unallocated = ITA's rows that are not metros."})
    current = fields.Boolean(metadata={"description": "true: only CBSAs in the 2023 delineation; false: only older ones."})
    sort = fields.String(load_default="name", validate=validate.OneOf(
        ["name", "-name", "code", "-code", "exports", "-exports"]),
        metadata={"description": "Sort key; '-' for descending. exports: ITA goods exports in `year`."})
    year = IntegerArg(validate=YEARS, metadata={"description": (
        "Year of the exports figure shown and sorted on. Default with sort=exports: the latest year ITA's series "
        "has; otherwise none (no exports shown).")})


class StateRefSchema(ma.Schema):
    fips = fields.String(attribute="code")
    usps = fields.String()
    name = fields.String()


class ExportsFigureSchema(ma.Schema):
    year = fields.Integer()
    value = Figure(allow_none=True)
    status = fields.String()
    dataset = fields.String()


class InternalPointSchema(ma.Schema):
    lat = fields.Float()
    lon = fields.Float()
    vintage = fields.String(metadata={"description": "The delineation whose file gives the point."})


class MetroSchema(ma.Schema):
    code = fields.String(metadata={"description": "CBSA code, or a slug for ITA's unallocated rows."})
    name = fields.String(metadata={"description": "Title in the newest delineation that has the CBSA."})
    type = fields.String(metadata={"description": "metropolitan, micropolitan or unallocated."})
    states = fields.List(fields.String(), attribute="usps_list", metadata={"description": "Principal states (USPS)."})
    delineation = fields.String(allow_none=True, metadata={"description": "Vintage of the newest definition."})
    current = fields.Boolean(allow_none=True, metadata={"description": "In the 2023 delineation."})
    internal_point = fields.Nested(InternalPointSchema, allow_none=True, metadata={
        "description": "A point inside the CBSA (Census's internal point, not a centroid) from the newest delineation "
                       "file that gives one: where a map draws it; null for unallocated rows and CBSAs no file "
                       "locates."})
    exports = fields.Nested(ExportsFigureSchema, allow_none=True,
                            metadata={"description": "ITA goods exports in `year`, when year= is given."})


class DatasetCoverageSchema(ma.Schema):
    dataset = fields.String()
    indicator = fields.String()
    first_year = fields.Integer()
    last_year = fields.Integer()
    figures = fields.Integer(metadata={"description": "Years with a value."})


class PlanRefSchema(ma.Schema):
    slug = fields.String()
    cohort = fields.String()
    title = fields.String(allow_none=True)


class DelineationSchema(ma.Schema):
    vintage = fields.String()
    label = fields.String()
    type = fields.String(attribute="metro_type", metadata={"description": "metropolitan or micropolitan."})
    title = fields.String()
    land_area_m2 = fields.Integer(allow_none=True)
    land_source = fields.String(metadata={"description": "How the land area was found, or why it is unknown."})
    internal_point = fields.Nested(InternalPointSchema, allow_none=True)
    county_count = fields.Integer(allow_none=True)
    source = fields.String(metadata={"description": "Dataset id of the file the definition comes from."})
    note = fields.String(allow_none=True)


class SuccessionSchema(ma.Schema):
    predecessor = fields.String()
    predecessor_name = fields.String()
    successor = fields.String()
    successor_name = fields.String()
    from_vintage = fields.String(metadata={"description": "The predecessor's delineation."})
    vintage = fields.String(metadata={"description": "The successor's delineation."})
    counties = fields.Integer(metadata={"description": "Counties the two share."})
    share_of_predecessor = fields.Float(metadata={"description": "Of the predecessor's land, the part the successor took."})
    share_of_successor = fields.Float(metadata={"description": "Of the successor's land, the part that came from the predecessor."})
    predecessor_retired = fields.Boolean()
    successor_new = fields.Boolean()


class MetroDetailSchema(MetroSchema):
    states = fields.List(fields.Nested(StateRefSchema))
    land_area_m2 = fields.Integer(allow_none=True, metadata={
        "description": "Land area in square metres from the newest delineation that gives one "
                       "(`land_area_delineation`; how it was found in `history`); null if none does. Until "
                       "this field was corrected it gave the TIGER 2015 layer's ALAND, else 2009's, whatever the "
                       "CBSA's current definition."})
    land_area_delineation = fields.String(allow_none=True, metadata={
        "description": "The delineation `land_area_m2` is from."})
    history = fields.List(fields.Nested(DelineationSchema), metadata={
        "description": "The CBSA in each delineation that has it, oldest first."})
    successions = fields.List(fields.Nested(SuccessionSchema), metadata={
        "description": "Predecessors and successors: each step of land passing between this code and another, "
                       "by county overlap between the 2009, 2013, 2018 and 2023 county lists."})
    successor = fields.Nested(PlaceSchema, allow_none=True, metadata={
        "description": "A retired CBSA: the current CBSA holding most of its land; null otherwise."})
    titles = fields.Dict(keys=fields.String(), values=fields.String(),
                         metadata={"description": "Title in each delineation vintage that has the CBSA."})
    former_titles = fields.List(fields.String())
    datasets = fields.List(fields.Nested(DatasetCoverageSchema))
    export_plans = fields.List(fields.Nested(PlanRefSchema), metadata={
        "description": "Metropolitan Export Initiative cohorts the metro took part in; details at /v1/export-plans."})


class MetroPageSchema(ma.Schema):
    data = fields.List(fields.Nested(MetroSchema))
    meta = fields.Nested(PageMetaSchema)


class StateSchema(ma.Schema):
    fips = fields.String(attribute="code")
    usps = fields.String()
    name = fields.String()


class StateDetailSchema(StateSchema):
    metros = fields.Integer(metadata={"description": "Number of CBSAs with this state among their principal states."})
    datasets = fields.List(fields.Nested(DatasetCoverageSchema))


class StatePageSchema(ma.Schema):
    data = fields.List(fields.Nested(StateSchema))
    meta = fields.Nested(PageMetaSchema)


class SeriesArgs(YearRangeArgs):
    dataset = fields.String(validate=validate.Length(1, 64), metadata={"description": "Dataset id."})


class MetroExportsArgs(SeriesArgs, UnitsArgs, PerArgs):
    dataset = fields.String(validate=validate.Length(1, 64), metadata={
        "description": "One release: ita-metro-exports (goods, 2005-2023; the default without as_of), "
                       "ita-metro-exports-2012-2021 (its 2012-2021 edition), or brookings-export-monitor-2018 (goods "
                       "and services, 2017). Left out with as_of: each year from the newest edition of ITA's series "
                       "published by then."})
    as_of = AS_OF
    revisions = REVISIONS

    @ma.post_load
    def newest_edition(self, data, **kwargs):
        """Without as_of, the default dataset is there, so that naming it is the same request (one ETag)."""
        if "as_of" not in data:
            data.setdefault("dataset", "ita-metro-exports")
        return data


class IndicatorArgs(SeriesArgs, UnitsArgs):
    name = DelimitedList(fields.String(validate=validate.OneOf(sorted(INDICATORS))), validate=validate.Length(1, 20), metadata={
        "description": "Comma-separated indicator names, e.g. population,real_gdp,jobs (default: all)."})


MAX_PLACES = 50
CODES = "Comma-separated codes, at most 50; one series each, in the order given."


class MetrosExportsArgs(MetroExportsArgs):
    code = DelimitedList(fields.String(validate=validate.Length(1, 32)), required=True,
                         validate=validate.Length(1, MAX_PLACES), metadata={"description": f"CBSA codes. {CODES}"})


class MetrosIndicatorsArgs(IndicatorArgs):
    code = MetrosExportsArgs._declared_fields["code"]


class StateExportsArgs(SeriesArgs, UnitsArgs, PerArgs):
    industry = DelimitedList(fields.String(validate=validate.Regexp(r"^(ALL|\d{1,6}|\d{2}-\d{2}|HS\d{2,10})$")),
                             validate=validate.Length(1, 100),
                             metadata={"description": "Comma-separated industry codes (NAICS, or ALL); default ALL."})
    naics_level = IntegerArg(validate=validate.Range(0, 6), metadata={
        "description": "The NAICS codes of this many digits, which add up to ALL without overlap; 0 = ALL. A range "
                       "such as 31-33 is left out where the data also hold the two-digit codes it spans (31, 32, "
                       "33); see `aggregate` in /v1/industries."})
    partner = PARTNER
    as_of = AS_OF
    revisions = REVISIONS

    @ma.validates_schema
    def one_selector(self, data, **kwargs):
        if data.get("industry") and data.get("naics_level") is not None:
            raise ma.ValidationError("give industry or naics_level, not both", "naics_level")


class StatesExportsArgs(StateExportsArgs):
    code = DelimitedList(fields.String(validate=validate.Length(1, 32)), required=True,
                         validate=validate.Length(1, MAX_PLACES),
                         metadata={"description": f"FIPS (06) or USPS (CA) codes. {CODES}"})


class StateMetrosArgs(PageArgs):
    type = MetroQueryArgs._declared_fields["type"]
    current = MetroQueryArgs._declared_fields["current"]



class RevisionSchema(ma.Schema):
    dataset = fields.String()
    released_on = fields.String(allow_none=True, metadata={"format": "date"})
    value = Figure(allow_none=True)
    status = fields.String(allow_none=True, metadata={
        "description": "null with a null value: the release covers the place and year but gives no figure for the "
                       "partner (no exports, as that release has it)."})


class StatePointSchema(PointSchema):
    industry = fields.String(metadata={"description": "NAICS code, HS code (HS…), or ALL."})
    industry_title = fields.String(allow_none=True)
    partner = fields.String(metadata={"description": "The partner's canonical code (ISO 3166 alpha-3, G-… for a "
                                                     "group), WLD for the world."})
    released_on = fields.String(allow_none=True, metadata={
        "format": "date", "description": "The release date of the dataset the figure comes from; null if unknown."})
    revisions = fields.List(fields.Nested(RevisionSchema), metadata={
        "description": "With revisions=true: every release's figure of this point that covers it, newest first."})


class StateSeriesSchema(SeriesSchema):
    data = fields.List(fields.Nested(StatePointSchema))


class MetroPointSchema(PointSchema):
    released_on = fields.String(allow_none=True, metadata={
        "format": "date", "description": "With as_of or revisions=true: the release date of the dataset the figure "
                                         "comes from; null if unknown."})
    revisions = StatePointSchema._declared_fields["revisions"]


class MetroSeriesSchema(SeriesSchema):
    data = fields.List(fields.Nested(MetroPointSchema))


class MetroSeriesPanelSchema(ma.Schema):
    series = fields.List(fields.Nested(MetroSeriesSchema), metadata={"description": "One series per metro, as asked."})


class StateSeriesPanelSchema(ma.Schema):
    series = fields.List(fields.Nested(StateSeriesSchema), metadata={"description": "One series per state, as asked."})


class NationExportsArgs(SeriesArgs, UnitsArgs):
    dataset = fields.String(load_default="ita-metro-exports", validate=validate.Length(1, 64), metadata={
        "description": "ita-metro-exports (default: the sum of every metro and ITA's unallocated rows), another "
                       "metro dataset, or a Census state dataset (its United States row where it has one, else the "
                       "sum of its states)."})
    industry = fields.String(load_default="ALL", validate=validate.Regexp(r"^(ALL|\d{1,6}|\d{2}-\d{2}|HS\d{2,10})$"),
                             metadata={"description": "An industry code of a Census dataset; default ALL."})
    units = fields.String(load_default="level", validate=validate.OneOf([u for u in UNITS if u != "share"]),
                          metadata={"description": "level, change, percent_change or index (base_year = 100)."})


class NationBasisSchema(ma.Schema):
    """What the national figures are: which dataset, which rows, which territory."""

    dataset = fields.String()
    method = fields.String(validate=validate.OneOf(["united_states_row", "sum_of_places"]), metadata={
        "description": "united_states_row: the dataset's own total; sum_of_places: the sum of its places' figures "
                       "(status derived)."})
    definition = fields.String(metadata={"description": "The same words units=share gives for its denominator."})
    territory = fields.String(metadata={"description": "The states and territories the places cover, and the "
                                                       "unallocated rows included."})
    places = fields.Dict(keys=fields.String(), values=fields.Integer(),
                         metadata={"description": "Places in the dataset by kind (state, metro, unallocated)."})
    places_with_figure = fields.Dict(keys=fields.String(), values=fields.Integer(), metadata={
        "description": "Per year, how many places have a figure (the others are suppressed or not available)."})
    sum_of_places = fields.Dict(keys=fields.String(), values=Figure(), metadata={
        "description": "Per year, the sum of the places' figures: the national figure itself for sum_of_places, "
                       "what the places add up to beside the dataset's own total for united_states_row."})


class NationSeriesSchema(SeriesSchema):
    basis = fields.Nested(NationBasisSchema)
