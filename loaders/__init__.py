"""Loaders: read the source files, map them to rows, write them in one transaction, record provenance."""

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, MetaData, inspect, select, text
from sqlalchemy.orm import Session

from loaders import brookings, census, delineations, gazetteer, indicators, ita, partners, plans
from loaders.files import SourceError
from loaders.places import seed
from loaders.store import Result
from models import Base, Dataset, StoreState
from models.dataset import schema_version, store_version

# In dependency order: geographies first, then the sources that refer to them.
STEPS = (
    ("Census Gazetteer land areas", gazetteer.load),
    ("delineations", delineations.load),
    ("ITA metro exports", ita.load),
    ("Census state exports", census.load),
    ("metro indicators", indicators.load),
    ("Brookings Export Monitor", brookings.load),
    ("export plans", plans.load),
    ("Census state exports by partner", partners.load),
)

__all__ = ["STEPS", "SourceError", "build"]
SCHEMA = schema_version(Base.metadata)


def build(engine: Engine, data_dir: Path, force: bool = False,
          on_step: Callable[[str], None] = lambda name: None) -> list[Result]:
    """Build the whole store from `data_dir` in one transaction: all of it lands, or none of it.

    A source whose file is unchanged since it was loaded is skipped, unless an earlier step changed.
    """
    if not Path(data_dir).is_dir():
        raise SourceError(data_dir, "data directory not found")
    results: list[Result] = []
    with Session(engine) as session, session.begin():
        if built_with(session) != SCHEMA:
            renew(session)
            force = True
        seed(session)
        for name, load in STEPS:
            on_step(name)
            step = load(session, Path(data_dir), force=force)
            force = force or any(r.status == "loaded" for r in step)
            results += step
        if force or session.get(StoreState, 1) is None:
            stamp(session)
            session.execute(text("ANALYZE"))  # fresh planner statistics: PostgreSQL misplans an unanalysed join
    return results


def built_with(session: Session) -> str | None:
    """The schema version of the store (None if it has none: empty, or built before versions were kept)."""
    connection = session.connection()
    tables = inspect(connection)
    if not tables.has_table(StoreState.__tablename__) or "schema" not in {
            c["name"] for c in tables.get_columns(StoreState.__tablename__)}:
        return None
    return connection.scalar(select(StoreState.schema).where(StoreState.id == 1))


def renew(session: Session) -> None:
    """Drop every table the store holds and create the code's, in the build's transaction (readers keep the old
    store until it commits)."""
    connection = session.connection()
    found = MetaData()
    found.reflect(connection)
    found.drop_all(connection)
    Base.metadata.create_all(connection)


def stamp(session: Session) -> None:
    """Record the new version of the store, in the same transaction as the data it describes."""
    datasets = session.execute(select(Dataset.id, Dataset.sha256, Dataset.loaded_at)).all()
    state = session.get(StoreState, 1) or StoreState(id=1)
    state.version = store_version([tuple(d) for d in datasets], datetime.now(UTC))
    state.loaded_at = max(d.loaded_at for d in datasets)
    state.schema = SCHEMA
    session.add(state)
