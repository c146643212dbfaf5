"""The observations (the fact table in long form) and bulk downloads."""

import marshmallow as ma
from marshmallow import fields, validate
from webargs.fields import DelimitedList

from models.observation import INDICATORS
from schemas.common import STATUSES, Figure, IntegerArg, SourceSchema, YearRangeArgs

KINDS = ["nation", "state", "metro", "unallocated"]
COLUMNS = ("dataset", "indicator", "kind", "code", "industry", "partner", "year", "value", "status")


def codes(description: str, most: int, **kwargs) -> DelimitedList:
    return DelimitedList(fields.String(validate=validate.Length(1, 64), **kwargs), validate=validate.Length(1, most),
                         metadata={"description": f"{description} Comma-separated, at most {most}."})


class ObservationArgs(YearRangeArgs):
    dataset = codes("Dataset ids (/v1/datasets).", 50)
    indicator = DelimitedList(fields.String(validate=validate.OneOf(sorted(INDICATORS))),
                              validate=validate.Length(1, len(INDICATORS)),
                              metadata={"description": "Indicator names. Comma-separated."})
    kind = DelimitedList(fields.String(validate=validate.OneOf(KINDS)), validate=validate.Length(1, len(KINDS)),
                         metadata={"description": "Kinds of place: nation, state, metro, unallocated. Comma-separated."})
    code = codes("Place codes as the data write them: US, state FIPS (41), CBSA code (38900), unallocated slug "
                 "(non-metro); with kind=, only places of those kinds.", 500)
    industry = codes("Industry codes (/v1/industries), ALL for all industries.", 200)
    partner = codes("Partner codes (/v1/partners), WLD for the world.", 200)
    page_size = IntegerArg(load_default=1000, validate=validate.Range(1, 10_000),
                               metadata={"description": "Rows per page (at most 10,000)."})
    cursor = fields.String(validate=validate.Length(1, 400), metadata={"description": (
        "Where the page starts: meta.next_cursor of the page before (or the Link rel=next URL). A cursor holds the "
        "data version it was given under: after a reload it is refused with 410 Gone, and the panel is to be read "
        "again from the first page (pages of two versions would not fit together).")})


class ObservationSchema(ma.Schema):
    """One figure: a dataset's value of an indicator for a place, industry, partner and year."""

    dataset = fields.String()
    indicator = fields.String()
    kind = fields.String(validate=validate.OneOf(KINDS))
    code = fields.String()
    industry = fields.String()
    partner = fields.String()
    year = fields.Integer()
    value = Figure(allow_none=True)
    status = fields.String(validate=validate.OneOf(STATUSES), metadata={
        "description": "Why a value is null, or how it was obtained (see the series' point status)."})


class CursorMetaSchema(ma.Schema):
    page_size = fields.Integer()
    next_cursor = fields.String(allow_none=True, metadata={"description": "The cursor of the next page; null on the "
                                                                          "last one."})
    data_version = fields.String(metadata={"description": "The data version every page of this panel is read from."})


class ObservationPageSchema(ma.Schema):
    data = fields.List(fields.Nested(ObservationSchema))
    sources = fields.List(fields.Nested(SourceSchema), metadata={"description": "The datasets of this page's rows."})
    meta = fields.Nested(CursorMetaSchema)


class DownloadArgs(ma.Schema):
    format = fields.String(validate=validate.OneOf(["csv"]), metadata={
        "description": "csv (the only format; Parquet is not offered)."})
