"""Marshmallow schemas: query arguments (load) and responses (dump)."""
