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


class PartnerSchema(ma.Schema):
    code = fields.String()
    name = fields.String()
    kind = fields.String(metadata={"description": "world or country."})


class PartnerPageSchema(ma.Schema):
    data = fields.List(fields.Nested(PartnerSchema))
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


class DatasetPageSchema(ma.Schema):
    data = fields.List(fields.Nested(DatasetSchema))
    meta = fields.Nested(PageMetaSchema)
