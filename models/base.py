from sqlalchemy import JSON, BigInteger, Double, Integer, MetaData
from sqlalchemy.orm import DeclarativeBase

# Named constraints keep migrations and error messages readable on both backends.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    # SQLite's INTEGER is 64-bit already, and only INTEGER PRIMARY KEY autoincrements.
    type_annotation_map = {int: BigInteger().with_variant(Integer, "sqlite"), float: Double, list[str]: JSON, dict: JSON}
