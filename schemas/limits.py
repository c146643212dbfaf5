import marshmallow as ma
from marshmallow import fields


class RateLimitSchema(ma.Schema):
    limit = fields.Integer(metadata={"description": "Requests allowed per window."})
    remaining = fields.Integer(metadata={"description": "Requests left in the current window."})
    window_seconds = fields.Integer()
    reset_in = fields.Integer(metadata={"description": "Seconds until the window resets."})
    client = fields.String(metadata={"description": "The address the limit is counted against."})
