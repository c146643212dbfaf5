"""The store's engine and session, bound to the app in init_app."""

from flask import Flask
from sqlalchemy.orm import scoped_session, sessionmaker

from models.engine import create_store_engine

session = scoped_session(sessionmaker())


def init_app(app: Flask) -> None:
    engine = create_store_engine(app.config["DATABASE_URL"], pool_pre_ping=True)
    session.configure(bind=engine)
    app.extensions["store_engine"] = engine
    app.teardown_appcontext(lambda exc: session.remove())
