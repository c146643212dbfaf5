"""Finding the thing a path or parameter names, or a 404 (400 for a parameter) that says what was probably meant."""

import re
from collections.abc import Sequence

from flask_smorest import abort

from api import db
from api.problems import not_found
from models import Dataset, Geography, figures
from models.figures import spans
from models.geography import find, find_state, state_key
from models.observation import INDICATORS, PER_SOURCES
from models.stats import Per

METRO_KINDS = ("metro", "unallocated")
KINDS = ("nation", "state", "metro", "unallocated")
NATION_HINT = "'US' is the nation: its exports are at /v1/nation/exports"


def refuse(parameter: str, message: str):
    """Abort with a 400 problem naming the query parameter and what is wrong with it."""
    abort(400, messages={"query": {parameter: [message]}})


def metro(code: str) -> Geography:
    """A CBSA by code (any delineation since 2009), or one of ITA's unallocated rows by slug."""
    geo = db.session.scalars(find(METRO_KINDS, code)).first()
    if geo is not None:
        return geo
    code = code[:64]  # echo at most this much of what was asked
    hint = None
    if code.upper() == "US":
        hint = NATION_HINT
    elif re.fullmatch(r"\d{2}|[A-Za-z]{2}", code) and db.session.scalars(find_state(code)).first():
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
    if code.upper() == "US":
        hint = NATION_HINT
    elif re.fullmatch(r"\d{5}", code) and db.session.scalars(find(METRO_KINDS, code)).first():
        hint = f"'{code}' looks like a CBSA code: try /v1/metros/{code}"
    elif len(code) > 2:
        hint = "States are named by FIPS code (06) or USPS code (CA); the list is at /v1/states"
    if parameter:
        refuse(parameter, f"no state, DC or territory has the code '{code}'")
    not_found(f"No state, DC or territory has the code '{code}'.", hint)


def metros(codes: Sequence[str]) -> list[Geography]:
    """CBSAs (or unallocated rows) by code, in the order asked; 400 naming `code` for the codes that are none."""
    found = {g.code: g for g in db.session.scalars(find(METRO_KINDS, *codes))}
    return _in_order(codes, found, lambda code: code)


def states(codes: Sequence[str]) -> list[Geography]:
    """States, DC or territories by FIPS or USPS code, in the order asked (a state named twice once); 400 naming
    `code` for the codes that are none."""
    found = {}
    for geo in db.session.scalars(find_state(*codes)):
        found[geo.code] = found[geo.usps] = geo
    places = _in_order(codes, found, state_key)
    return list({g.code: g for g in places}.values())


def _in_order(codes: Sequence[str], found: dict, key) -> list:
    unknown = [c for c in codes if key(c) not in found]
    if unknown:
        refuse("code", f"unknown code(s): {', '.join(c[:64] for c in unknown)}")
    return list({key(c): found[key(c)] for c in codes}.values())


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
        refuse("dataset", f"dataset '{dataset}' has no exports series")
    return found


def denominators(dataset: str, indicator: str, industry: str, partner: str) -> figures.NationalTotals:
    """The national totals a share of this request divides by."""
    return figures.national(db.snapshot(), dataset, indicator, industry, partner)


NAMES = {"from_": "from", "to": "to", "year": "year", "base_year": "base_year"}


def years(args: dict, available: Sequence[int], what: str, latest: tuple[str, ...] = (), span: bool = False,
          checked: tuple[str, ...] = (), strict: bool = False) -> None:
    """Fill in the years a request left out from the years that have figures (`available`, in order): each of
    `latest` the latest, `from`/`to` (span) the first and the last. 400 naming the parameter where one of `checked`
    has no figures, or `from` is after `to` (not before it, if `strict`). `what` names the figures.

    The defaults depend on the data version, which the ETag and the response cache key already hold: the same
    request on the same version always gets the same defaults."""
    if not available:
        refuse("dataset", f"{what} has no figures")
    for name in latest:
        args.setdefault(name, available[-1])
    if span:
        args.setdefault("from_", available[0])
        args.setdefault("to", available[-1])
    for name in checked:
        if args[name] not in available:
            refuse(NAMES[name], f"{what} has no figures for {args[name]}; it has them for {spans(available)}")
    if span and (args["from_"] >= args["to"] if strict else args["from_"] > args["to"]):
        refuse("from", f"must be {'before' if strict else 'at most'} 'to' ({args['to']})")


def industries(codes: Sequence[str]) -> None:
    """400 naming `industry` if a code is not an industry of the data."""
    unknown = [c[:64] for c in codes if c not in figures.industry_codes(db.snapshot())]
    if unknown:
        refuse("industry", f"no industry in the data has the code {', '.join(unknown)}; the codes are listed at "
                           "/v1/industries")


def partners(codes: Sequence[str]) -> list[str]:
    """The partners' own codes, given any code each is known by (Census 1220, ISO CA or CAN for Canada); 400 naming
    `partner` for a code no partner has."""
    known = figures.partner_codes(db.snapshot())
    unknown = [c[:64] for c in codes if c.strip().upper() not in known]
    if unknown:
        refuse("partner", f"no partner in the data has the code {', '.join(unknown)}; the codes are listed at "
                          "/v1/partners")
    return [known[c.strip().upper()] for c in codes]


def per(name: str, indicator: str, kind: str) -> Per:
    """The denominator of per=`name` for places of `kind` dividing `indicator`; 400 naming `per` if it would divide
    dollars by dollars of another price basis, or no dataset of `name` is declared for that kind of place."""
    numerator, denominator = INDICATORS[indicator], INDICATORS[name]
    if numerator.dollar_basis and denominator.dollar_basis and numerator.dollar_basis != denominator.dollar_basis:
        refuse("per", f"{indicator} is in {numerator.dollar_basis} dollars and {name} in {denominator.dollar_basis}: "
                      "a ratio of the two would mix price bases, so the API does not give it")
    dataset = PER_SOURCES.get(kind, {}).get(name)
    if dataset is None or dataset not in figures.provenance(db.snapshot()):
        kinds = [k for k, sources in PER_SOURCES.items() if name in sources]
        refuse("per", f"no {name} figures for {kind} places are loaded; per={name} is available for "
                      f"{', '.join(f'{k} places ({PER_SOURCES[k][name]})' for k in kinds) or 'no place'}")
    return figures.per(db.snapshot(), name, dataset, kind)


def covers(dataset: str, indicators, kinds: tuple[str, ...], what: str) -> None:
    """400 naming `dataset` if it has no figures of `indicators` for any place of `kinds` (a Census dataset asked of a
    metro, an ITA one of a state), with the datasets that have some."""
    snapshot, indicators = db.snapshot(), tuple(sorted(indicators))
    if set(kinds) & figures.kinds(snapshot, dataset, indicators):
        return
    others = [d for d in figures.provenance(snapshot) if set(kinds) & figures.kinds(snapshot, d, indicators)]
    refuse("dataset", f"{dataset} has no {what} figures for {kinds[0]} places; the datasets that have some: "
                      f"{', '.join(others) or 'none'}")


def datasets(ids: Sequence[str]) -> None:
    """400 naming `dataset` for the ids no dataset has."""
    unknown = [i[:64] for i in ids if i not in figures.provenance(db.snapshot())]
    if unknown:
        refuse("dataset", f"no dataset has the id {', '.join(unknown)}; the datasets are listed at /v1/datasets")


def place_ids(codes: Sequence[str], kinds: Sequence[str]) -> list[int]:
    """The ids of the places with these codes, of these kinds (all kinds if none); 400 naming `code` for the codes no
    place has."""
    index = figures.geographies(db.snapshot()).ids
    found = {code: [index[kind, code] for kind in kinds or KINDS if (kind, code) in index] for code in codes}
    unknown = [c[:64] for c, ids in found.items() if not ids]
    if unknown:
        refuse("code", f"no place{' of kind ' + ', '.join(kinds) if kinds else ''} has the code {', '.join(unknown)}")
    return sorted({i for ids in found.values() for i in ids})
