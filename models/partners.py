"""Exports by destination: a state's partners ranked, a partner's source states ranked, and a partner's national
total each year. Pure functions over figures as known (models.vintages.Known) that build the bodies the API
answers with (schemas/partners.py); each figure and each share is of one release, named."""

from collections.abc import Callable, Iterable, Mapping
from datetime import date

from models.figures import spans
from models.growth import rank, share
from models.observation import WORLD, figure
from models.stats import TIES
from models.vintages import Known, as_in

GROUP_KINDS = ("continent", "bloc")
STATES = "the 50 states, DC, Puerto Rico and the U.S. Virgin Islands"


def partner_body(info, directory: Mapping) -> dict:
    """A partner as /v1/partners lists it (schemas.partners.PartnerSchema), from models.figures.partners()."""
    return {"code": info.code, "name": info.name, "kind": info.kind, "iso2": info.iso2, "iso3": info.iso3,
            "names": list(info.names), "codes": [{"code": c, "system": s} for c, s in info.codes],
            "members": [{"code": m, "name": directory[m].name} for m in info.members],
            "groups": [{"code": g, "name": directory[g].name} for g in info.groups]}


def _item(position: int, code: str, name: str, k: Known, total: float | None, **extra) -> dict:
    return {"rank": position, "code": code, "name": name, **extra, "value": figure(k.value), "status": k.status,
            "share": share(k.value, total), "dataset": k.dataset, "released_on": k.released_on}


def _ranked(known: Mapping[str, Known], limit: int) -> tuple[list[tuple[str, float, int]], list[str]]:
    """Codes ranked by value (descending; ties in code order), and the codes without a value."""
    given = sorted((code, k.value) for code, k in known.items() if k.value is not None)
    return rank(given, True, limit), sorted(code for code, k in known.items() if k.value is None)


def state_partners(place: dict, year: int, known: Mapping[str, Known], partners: Mapping, kinds: Iterable[str],
                   limit: int, sources_of: Callable[[Iterable[str]], list], as_of: date | None) -> dict:
    """A state's destinations in a year (`known`: {partner: Known}), ranked, with each one's share of the state's
    exports to the world in the same release (schemas.partners.StatePartnersSchema)."""
    kinds = tuple(kinds)
    world = {r.dataset: r for r in known[WORLD].revisions} if WORLD in known else {}
    chosen = {code: k for code, k in known.items() if partners[code].kind in kinds}
    ranked, unvalued = _ranked(chosen, limit)
    used = sorted({chosen[code].dataset for code, _, _ in ranked}, key=lambda d: world[d].released_on, reverse=True)
    return {
        "geography": place, "year": year, "as_of": as_of, "kinds": list(kinds), "sources": sources_of(used),
        "denominator": f"exports of {place['name']} to the world (WLD) in {year}, in the release each figure comes "
                       "from (a release without a world total gives the sum of its countries: status derived)",
        "world": [{"dataset": d, "released_on": world[d].released_on, "value": figure(world[d].value),
                   "status": world[d].status} for d in used],
        "ties": TIES, "ranked": len([k for k in chosen.values() if k.value is not None]),
        "excluded": [{"code": c, "name": partners[c].name, "reason": f"no figure ({chosen[c].status})"}
                     for c in unvalued],
        "data": [_item(position, code, partners[code].name, chosen[code], world[chosen[code].dataset].value,
                       kind=partners[code].kind)
                 for code, _, position in ranked],
    }


def release_totals(states: Mapping[str, Known], nation: Known | None, unallocated: Known | None) -> list[dict]:
    """Per release that gives the states' figures (newest first): their sum, and where the release has them, the
    national total (its All States row) and what no state was credited with (its Unknown row, else All States less
    the states)."""
    sums: dict[str, list] = {}
    for k in sorted(states.values(), key=lambda k: k.released_on, reverse=True):
        total = sums.setdefault(k.dataset, [0, 0, k.released_on])
        if k.value is not None:
            total[0], total[1] = total[0] + k.value, total[1] + 1
    found = []
    for dataset, (states_total, count, released_on) in sums.items():
        entry = {"dataset": dataset, "released_on": released_on, "states": count, "states_total": figure(states_total),
                 "national_total": None, "unallocated": None, "unallocated_status": None, "reason": None}
        national = as_in(nation, dataset) if nation else None
        unknown = as_in(unallocated, dataset) if unallocated else None
        if national is None or national.value is None:
            entry["reason"] = (f"{dataset} has no All States row: the national total is not known; states_total "
                               f"(the sum of {STATES}) leaves out the exports Census could not allocate to a state")
        else:
            entry["national_total"] = figure(national.value)
        if unknown is not None and unknown.value is not None:
            entry.update(unallocated=figure(unknown.value), unallocated_status=unknown.status)
        elif entry["national_total"] is not None:
            entry.update(unallocated=figure(national.value - states_total), unallocated_status="derived")
        found.append(entry)
    return found


def partner_states(partner: dict, year: int, states: Mapping[str, tuple[str, str, Known]], nation: Known | None,
                   unallocated: Known | None, limit: int, sources: list, as_of: date | None) -> dict:
    """The states that export to a partner in a year (`states`: {FIPS: (USPS, name, Known)}), ranked, with each one's
    share of the sum of the states in the same release (schemas.partners.PartnerStatesSchema)."""
    known = {code: k for code, (_, _, k) in states.items()}
    totals = release_totals(known, nation, unallocated)
    by_release = {t["dataset"]: t["states_total"] for t in totals}
    ranked, unvalued = _ranked(known, limit)
    return {
        "partner": partner, "year": year, "as_of": as_of, "sources": sources,
        "denominator": f"the exports to {partner['name']} in {year} of {STATES} together (states_total), in the "
                       "release each figure comes from",
        "totals": totals, "ties": TIES, "ranked": len(known) - len(unvalued),
        "excluded": [{"code": c, "name": states[c][1], "reason": f"no figure ({known[c].status})"} for c in unvalued],
        "data": [_item(position, code, states[code][1], known[code], by_release[known[code].dataset],
                       usps=states[code][0]) for code, _, position in ranked],
    }


def partner_exports(partner: dict, years: Mapping[int, tuple[Mapping[str, Known], Known | None, Known | None]],
                    as_of: date | None, series: str) -> dict:
    """A partner's national total each year (`years`: {year: (states' Known by FIPS, nation's, unallocated's)}):
    the All States row of the newest release that has one, with the sum of the states and what they leave out, of
    that same release; where no release has one, null, with the states' sum and what it leaves out
    (schemas.partners.PartnerExportsSchema)."""
    points, gaps = [], []
    for year in sorted(years):
        states, nation, unallocated = years[year]
        # One release per year: the one whose All States row is known, else the newest that has the states.
        release = nation or max((*states.values(), *([unallocated] if unallocated else [])),
                                key=lambda k: k.released_on, default=None)
        if release is None:
            continue
        mine = {c: found for c, k in states.items() if (found := as_in(k, release.dataset))}
        total = release_totals(mine or {"": Known(None, "ok", release.dataset, release.released_on, ())}, nation,
                               unallocated)[0]
        points.append({"year": year, "value": total["national_total"],
                       "status": nation.status if total["national_total"] is not None else "not_available",
                       **{k: total[k] for k in ("dataset", "released_on", "states_total", "states", "unallocated",
                                                "unallocated_status", "reason")}})
        if total["unallocated"] is not None and total["national_total"]:
            gaps.append((year, round(100 * total["unallocated"] / total["national_total"], 2)))
    if gaps:
        low, high = min(p for _, p in gaps), max(p for _, p in gaps)
        left_out = (f"; where a release gives both ({spans(y for y, _ in gaps)}), that was {low}% to {high}% of the "
                    "national total")
        for point in points:
            if point["reason"]:
                point["reason"] += left_out
    return {
        "partner": partner, "as_of": as_of, "series": series,
        "definitions": {
            "value": "the national total: the All States row of the newest release that has one for the year; null "
                     "where none has (the 2016-2025 release has no All States row)",
            "states_total": f"the sum of {STATES} in the same release",
            "unallocated": "what no state was credited with, in the same release: its Unknown (Unidentified) row where "
                           "it has one, else value less states_total (status derived)"},
        "data": points,
    }
