"""Code lists (industries, partners) and datasets."""

from datetime import UTC

import marshmallow as ma
from marshmallow import fields, validate

from schemas.common import IntegerArg, PageArgs, PageMetaSchema


class UtcDateTime(fields.DateTime):
    """A naive datetime the store keeps in UTC, written with its offset (RFC 3339)."""

    def _serialize(self, value, attr, obj, **kwargs):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return super()._serialize(value, attr, obj, **kwargs)


class IndustryQueryArgs(PageArgs):
    level = IntegerArg(validate=validate.Range(0, 10), metadata={
        "description": "Digits of the code (0 = ALL; a range such as 31-33 has 2). Lists every code of that many "
                       "digits, aggregates included; a series' naics_level leaves the aggregates out."})
    classification = fields.String(validate=validate.OneOf(["naics", "hs"]))
    q = fields.String(validate=validate.Length(1, 100), metadata={"description": "Words in the title or code prefix."})


class IndustrySchema(ma.Schema):
    code = fields.String()
    title = fields.String(allow_none=True, metadata={"description": "Null where the sources give only the code."})
    level = fields.Integer(metadata={"description": "Digits of the code (0 = ALL; 2 for a range such as 31-33)."})
    classification = fields.String()
    parent = fields.String(allow_none=True, metadata={
        "description": "The nearest code above this one in the data (3361 -> 336 -> 33 -> 31-33 -> ALL); null for ALL."})
    aggregate = fields.Boolean(metadata={
        "description": "A NAICS range (31-33, 44-45, 48-49) published beside the two-digit codes it spans, which "
                       "add up to it: naics_level leaves it out so that a level never counts a figure twice."})


class IndustryPageSchema(ma.Schema):
    data = fields.List(fields.Nested(IndustrySchema))
    meta = fields.Nested(PageMetaSchema)


class DatasetSchema(ma.Schema):
    id = fields.String()
    title = fields.String()
    publisher = fields.String()
    source_url = fields.String(allow_none=True)
    source_file = fields.String()
    license = fields.String(allow_none=True)
    unit = fields.String(allow_none=True)
    dollar_basis = fields.String(allow_none=True)
    coverage = fields.String(allow_none=True)
    delineation = fields.String(allow_none=True, metadata={"description": "CBSA delineation vintage the data use."})
    sha256 = fields.String(metadata={"description": "SHA-256 of the file (of the files' SHA-256s if several)."})
    loaded_at = UtcDateTime(metadata={"description": "When the file was loaded."})
    row_count = fields.Integer(metadata={"description": "Observations stored (CBSAs for a delineation file)."})
    notes = fields.String(allow_none=True, metadata={"description": "Caveats: units, suppression, mapping."})
    series = fields.String(metadata={"description": (
        "The series this dataset is a release (vintage) of; its own id if it is the only one. The releases are at "
        "/v1/datasets/{id}/vintages.")})
    released_on = fields.Date(allow_none=True, metadata={
        "description": "Publication or retrieval date (the last day of the month where only the month is known); "
                       "null if unknown."})
    release = fields.String(allow_none=True, metadata={"description": "What the date is, what the figures are."})


class DatasetPageSchema(ma.Schema):
    data = fields.List(fields.Nested(DatasetSchema))
    meta = fields.Nested(PageMetaSchema)


class VintageSchema(ma.Schema):
    id = fields.String()
    title = fields.String()
    released_on = DatasetSchema._declared_fields["released_on"]
    release = DatasetSchema._declared_fields["release"]
    loaded_at = UtcDateTime()
    coverage = fields.String(allow_none=True)
    first_year = fields.Integer(allow_none=True)
    last_year = fields.Integer(allow_none=True)
    places = fields.Integer()
    partners = fields.Integer()
    figures = fields.Integer(metadata={"description": "Figures with a value."})
    newest = fields.Boolean(metadata={"description": "The newest release: what is served without as_of."})


class VintagesSchema(ma.Schema):
    series = fields.String()
    releases = fields.List(fields.Nested(VintageSchema), metadata={"description": "Newest first."})
