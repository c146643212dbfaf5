"""The store's engine and session, bound to the app in init_app."""

from flask import Flask, current_app
from sqlalchemy.orm import Session, scoped_session

from models.engine import create_store_engine

# One session per request thread, on the engine of the app that serves the request.
session = scoped_session(lambda: Session(bind=current_app.extensions["store_engine"]))


def init_app(app: Flask) -> None:
    app.extensions["store_engine"] = create_store_engine(app.config["DATABASE_URL"], pool_pre_ping=True)
    app.teardown_appcontext(lambda exc: session.remove())
