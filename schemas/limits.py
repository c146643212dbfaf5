"""Your own rate limit."""

import marshmallow as ma
from marshmallow import fields


class RateLimitSchema(ma.Schema):
    enabled = fields.Boolean(metadata={"description": "Whether this server limits requests at all."})
    limit = fields.Integer(allow_none=True, metadata={"description": "Requests allowed per window."})
    remaining = fields.Integer(allow_none=True, metadata={"description": "Requests left in the current window."})
    window_seconds = fields.Integer(allow_none=True)
    reset_in = fields.Integer(allow_none=True, metadata={"description": "Seconds until the window resets."})
    client = fields.String(metadata={"description": "The address the limit is counted against."})
