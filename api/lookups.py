"""Finding the thing a path or parameter names, or a 404 (400 for a parameter) that says what was probably meant."""

import re

from flask_smorest import abort

from api import db
from api.problems import not_found
from models import Dataset, Geography, figures
from models.geography import find, find_state


def metro(code: str) -> Geography:
    """A CBSA by code (any delineation since 2009), or one of ITA's unallocated rows by slug."""
    geo = db.session.scalars(find(("metro", "unallocated"), code)).first()
    if geo is not None:
        return geo
    code = code[:64]  # echo at most this much of what was asked
    hint = None
    if re.fullmatch(r"\d{2}|[A-Za-z]{2}", code):
        hint = f"'{code}' looks like a state code: try /v1/states/{code}"
    elif not code.isdigit():
        hint = f"CBSAs are named by their five-digit code; to find one by name try /v1/metros?q={code}"
    not_found(f"No CBSA or unallocated area has the code '{code}' in any delineation from 2009 to 2023.", hint)


def state(code: str, parameter: str | None = None) -> Geography:
    """A state, DC or territory by FIPS code (06) or USPS code (CA, ca).

    Unknown: 404 for a path segment, 400 naming the query `parameter` when it came from one.
    """
    geo = db.session.scalars(find_state(code)).first()
    if geo is not None:
        return geo
    code = code[:64]
    hint = None
    if re.fullmatch(r"\d{5}", code):
        hint = f"'{code}' looks like a CBSA code: try /v1/metros/{code}"
    elif len(code) > 2:
        hint = "States are named by FIPS code (06) or USPS code (CA); the list is at /v1/states"
    if parameter:
        abort(400, messages={"query": {parameter: [f"no state, DC or territory has the code '{code}'"]}})
    not_found(f"No state, DC or territory has the code '{code}'.", hint)


def dataset(id_: str) -> Dataset:
    source(id_)  # a 404 for an unknown id
    return db.session.get(Dataset, id_)


def source(id_: str) -> figures.Source:
    """A dataset's provenance as a response names it; 404 for an unknown id."""
    found = figures.provenance(db.snapshot()).get(id_)
    if found is None:
        not_found(f"No dataset has the id '{id_[:64]}'.", "The loaded datasets are listed at /v1/datasets")
    return found


def sources(ids) -> list[figures.Source]:
    return [source(i) for i in sorted(set(ids))]


def exports_indicator(dataset: str) -> str:
    """The exports indicator of a dataset; 400 naming the `dataset` parameter if it holds none."""
    found = figures.exports_indicator(db.snapshot(), dataset)
    if found is None:
        abort(400, messages={"query": {"dataset": [f"dataset '{dataset}' has no exports series"]}})
    return found


def denominators(dataset: str, indicator: str, industry: str, partner: str) -> figures.NationalTotals:
    """The national totals a share of this request divides by."""
    return figures.national(db.snapshot(), dataset, indicator, industry, partner)
