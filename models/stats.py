"""Rankings, the national summary and concentration: pure functions over figures already read from the store, and
the bodies the API answers with (encoded as they are: tests/test_contract.py checks them against their schemas)."""

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from operator import attrgetter
from types import MappingProxyType

from models.growth import CAGR_FORMULA, CHANGE_FORMULA, Change, change, delineation_caveats, rank, ratio, share
from models.observation import AmbiguousDataset, figure

Figures = Mapping[int, tuple[float | None, str]]  # year → (value, status)
TIES = ("Competition ranking ('1224'): places with equal values share a rank and the next rank skips; "
        "equal values are listed in code order.")
FORMULAS = {"value": "the source figure in the year",
            "share": "share = 100 * value / national total in the year",
            "growth": CHANGE_FORMULA, "cagr": CAGR_FORMULA,
            "per": "value = source figure / {per} of the place in the year"}


@dataclass(frozen=True, slots=True)
class Place:
    """A place and its figures in one dataset."""

    code: str
    name: str
    figures: Figures
    kind: str = "metro"
    metro_type: str | None = None

    def value(self, year: int) -> float | None:
        return self.figures.get(year, (None, "not_available"))[0]

    def status(self, year: int) -> str:
        return self.figures.get(year, (None, "not_available"))[1]

    def change(self, start: int, end: int) -> Change:
        given = [y for y in (start, end) if y in self.figures]  # change() reads these two years only
        return change({y: self.figures[y][0] for y in given}, start, end, {y: self.figures[y][1] for y in given})


def combine(datasets: Mapping[str, Iterable[Place]], years: Iterable[int]) -> tuple[tuple[Place, ...], list[str]]:
    """One place per code from several datasets, each covering its own years, with their figures in `years` only;
    and the datasets that had any. AmbiguousDataset if two give one place and year different figures."""
    years = set(years)
    merged: dict[str, Place] = {}
    used = []
    for dataset, found in datasets.items():
        for place in found:
            given = {y: f for y, f in place.figures.items() if y in years}
            if not given:
                continue
            if dataset not in used:
                used.append(dataset)
            figures = dict(merged[place.code].figures) if place.code in merged else {}
            for year, figure_ in given.items():
                if figures.setdefault(year, figure_) != figure_:
                    raise AmbiguousDataset(f"several datasets give {place.name} figures for {year}: choose one with "
                                           "dataset=")
            merged[place.code] = Place(place.code, place.name, MappingProxyType(figures), place.kind, place.metro_type)
    return tuple(sorted(merged.values(), key=attrgetter("code"))), used


@dataclass(frozen=True, slots=True)
class Per:
    """The denominator of a ratio (per=population): an indicator of one dataset, with every place's figures."""

    indicator: str
    dataset: str
    delineation: str | None  # the CBSA delineation the dataset's figures are on, every year
    places: Mapping[str, Place]  # place code → its figures of the indicator

    def value(self, code: str, year: int) -> float | None:
        place = self.places.get(code)
        return None if place is None else place.value(year)

    def caveats(self) -> list[str]:
        if self.delineation is None:
            return []
        return [(f"{self.indicator} comes from {self.dataset}, on the {self.delineation} CBSA delineation in every "
                 "year, while an exports series may be on another in some years (ITA reports each year under the "
                 "delineation then in force): in such a year a CBSA's exports and its denominator can cover "
                 "different counties.")]


def ranking(places: Iterable[Place], by: str, year: int | None = None, start: int | None = None,
            end: int | None = None, min_base: float = 0, totals: Mapping[int, float] | None = None,
            descending: bool = True, limit: int | None = None, changes: Mapping[str, Change] | None = None,
            offset: int = 0, per: Per | None = None, outside: Mapping[str, str] | None = None,
            no_total: Mapping[int, str] | None = None) -> tuple[list[dict], list[dict], int]:
    """Rank places by value, share, growth (percent change) or CAGR; return (the ranked places from `offset`, at
    most `limit` of them, excluded with reasons, how many were ranked). `changes`: each place's change from `start`
    to `end`, if known; `per`: rank by=value per unit of another indicator (e.g. exports per person); by=share:
    `outside` the places whose share is not of `totals` (code → why), `no_total` why a year has no total."""
    scored, excluded = [], []
    for place in sorted(places, key=attrgetter("code")):
        if by == "share" and place.code in (outside or {}):
            excluded.append(_excluded(place, outside[place.code], "outside_territory"))
            continue
        if by in ("value", "share"):
            base = place.value(year)
            if base is None:
                excluded.append(_excluded(place, f"no figure for {year} ({place.status(year)})", place.status(year)))
                continue
            score = base if by == "value" else share(base, (totals or {}).get(year))
            start_value, end_value = None, base
            if score is None:
                excluded.append(_excluded(place, f"no national total for {year}" + (
                    f": {no_total[year]}" if year in (no_total or {}) else ""), "no_national_total"))
                continue
            if per is not None:
                score = ratio(base, per.value(place.code, year))
                if score is None:
                    excluded.append(_excluded(place, f"no {per.indicator} figure for {year} in {per.dataset}",
                                              "no_denominator"))
                    continue
        else:
            result = changes[place.code] if changes is not None else place.change(start, end)
            base, score = result.start_value, result.percent if by == "growth" else result.cagr
            start_value, end_value = result.start_value, result.end_value
            if score is None:
                missing = [place.status(y) for y in (start, end) if place.value(y) is None]
                excluded.append(_excluded(place, "; ".join(result.reasons), missing[0] if missing else "undefined"))
                continue
        if base < min_base:
            excluded.append(_excluded(place, f"base {base:.0f} is below min_base {min_base}", "below_min_base"))
            continue
        scored.append(((place, start_value, end_value), score))
    end_at = None if limit is None else offset + limit
    ranked = [{"rank": position, "code": place.code, "name": place.name, "value": figure(score),
               "start_value": figure(start_value), "end_value": figure(end_value)}
              for (place, start_value, end_value), score, position in rank(scored, descending, end_at)[offset:]]
    return ranked, excluded, len(scored)


def _excluded(place: Place, reason: str, reason_code: str) -> dict:
    return {"code": place.code, "name": place.name, "reason": reason, "reason_code": reason_code}


def ranking_body(args: dict, places: Iterable[Place], sources: list, indicator, industry: str,
                 denominator=None, changes: Mapping[str, Change] | None = None, per: Per | None = None) -> dict:
    """A ranking as the API answers it (schemas.stats.RankingSchema), but for its page meta: page args["page"] of
    args["page_size"] places, the first args["excluded_limit"] excluded places and their count by reason code;
    `denominator` (national totals) for by=share, `changes` of the places from args["from_"] to args["to"] where they
    are known, `per` for per=."""
    totals, definition = (denominator.values, denominator.definition) if denominator else (None, None)
    page, size = args["page"], args["page_size"]
    ranked, excluded, count = ranking(places, args["by"], args.get("year"), args.get("from_"), args.get("to"),
                                      args["min_base"], totals, args["order"] == "desc", size, changes,
                                      (page - 1) * size, per, denominator and denominator.outside,
                                      denominator and denominator.reasons)
    return {
        "by": args["by"], "year": args.get("year"), "start_year": args.get("from_"), "end_year": args.get("to"),
        "indicator": indicator, "industry": industry, "sources": sources, "min_base": args["min_base"],
        "ties": TIES, "formula": FORMULAS["per" if per else args["by"]].format(per=per and per.indicator),
        "denominator": definition if per is None else f"{per.indicator} of each place in {per.dataset}",
        "ranked": count, "excluded_count": len(excluded),
        "excluded_reasons": dict(sorted(Counter(e["reason_code"] for e in excluded).items())),
        "excluded": excluded[:args["excluded_limit"]],
        "caveats": [*(delineation_caveats(args["from_"], args["to"]) if "from_" in args and "to" in args else []),
                    *(per.caveats() if per else [])],
        "data": ranked,
    }


def aggregate(values: dict[str, float | None], base_values: dict[str, float | None], year: int, base_year: int,
              threshold: float, national_total: float | None, rows: str, places: Iterable[str]) -> dict:
    """Total, change since the base year, count of `places` above the threshold (never an unallocated row) and
    share of the nation, for some rows."""
    now = [v for v in values.values() if v is not None]
    before = [v for v in base_values.values() if v is not None]
    total, base_total = sum(now), sum(before)
    places = set(places)
    return {
        "rows": rows,
        "places_with_figure": len(now),
        "places_with_base_figure": len(before),
        "total": total,
        "base_total": base_total,
        "change": change({base_year: base_total if before else None, year: total if now else None}, base_year, year),
        "above_threshold": sum(1 for c, v in values.items() if v is not None and v > threshold and c in places),
        "share_of_national_total": share(total, national_total),
    }


# What each of the sources' unallocated rows holds: ITA's "Other Metropolitan Areas" are metropolitan areas it does
# not name; Brookings' "Rest of <state>" is the state outside its CBSAs.
PARTS = {"other-metro": "metropolitan", "non-metro": "non_metropolitan", "crossovers": "unassigned",
         "unknown": "unassigned"}


def part(code: str) -> str:
    return PARTS.get(code, "non_metropolitan" if code.startswith("rest-of-") else "unassigned")


def common(metros: tuple[dict, dict], year: int, base_year: int, names: Mapping[str, str]) -> dict:
    """The metros with a figure in both years, those with one in only one of them, and the change over the first."""
    now, before = ({c for c, v in m.items() if v is not None} for m in metros)
    both = now & before
    return {
        "places": len(both),
        "only_in_year": [{"code": c, "name": names[c]} for c in sorted(now - before)],
        "only_in_base_year": [{"code": c, "name": names[c]} for c in sorted(before - now)],
        "change": change({year: sum(metros[0][c] for c in both) if both else None,
                          base_year: sum(metros[1][c] for c in both) if both else None}, base_year, year),
    }


def summary(places: Iterable[Place], year: int, base_year: int, threshold: float, totals, dataset: str,
            sources: list) -> dict:
    """All metros and the source's unallocated rows in `year` against `base_year` (schemas.stats.SummarySchema):
    the named metros; every metropolitan area (with ITA's "Other Metropolitan Areas"); everything, the national
    total; and the metros with a figure in both years."""
    places = list(places)
    now, before = ({p.code: p.value(at) for p in places if at in p.figures} for at in (year, base_year))

    def both(keep) -> tuple[dict, dict]:
        codes = [p.code for p in places if keep(p)]
        return {c: now[c] for c in codes if c in now}, {c: before[c] for c in codes if c in before}

    metros = both(lambda p: p.kind == "metro")
    metropolitan = both(lambda p: p.kind == "metro" or part(p.code) == "metropolitan")
    everything = both(lambda p: True)
    unallocated = both(lambda p: p.kind == "unallocated")
    national_total = totals.values.get(year)
    names = {p.code: p.name for p in places}
    in_both = common(metros, year, base_year, names)
    caveats = delineation_caveats(base_year, year)
    if in_both["only_in_year"] or in_both["only_in_base_year"]:
        caveats.append(
            f"The two years cover different sets of metros: {len([v for v in metros[0].values() if v is not None])} "
            f"have a figure for {year}, {len([v for v in metros[1].values() if v is not None])} for {base_year}; "
            f"metros_in_both_years gives the change over the {in_both['places']} with a figure in both.")
    return {
        "dataset": dataset, "sources": sources,
        "year": year, "base_year": base_year, "threshold": threshold, "national_total": national_total,
        "national_total_definition": totals.definition,
        "metros_only": aggregate(*metros, year, base_year, threshold, national_total,
                                 "CBSAs only: ITA's unallocated rows left out", metros[0]),
        "metropolitan": aggregate(*metropolitan, year, base_year, threshold, national_total,
                                  "every metropolitan area as the source defines it: the CBSAs it names and its "
                                  "'Other Metropolitan Areas' row; non-metropolitan, crossovers and unknown left "
                                  "out", metros[0]),
        "with_unallocated": aggregate(*everything, year, base_year, threshold, national_total,
                                      "CBSAs and ITA's unallocated rows (crossovers, non-metro, other metro, "
                                      "unknown): the national total", metros[0]),
        "metros_in_both_years": in_both,
        "unallocated": [{"code": c, "name": names[c], "part": part(c), "value": unallocated[0].get(c),
                         "base_value": unallocated[1].get(c)} for c in sorted(set(unallocated[0]) | set(unallocated[1]))],
        "caveats": caveats,
    }


def concentration_share(members: list[str], values: Mapping[str, float | None],
                        denominator: float | None) -> tuple[float | None, float | None, list[str], str | None]:
    """(sum over the members, share of the denominator in percent, members without a figure, reason if null)."""
    missing = [code for code in members if values.get(code) is None]
    top_total = sum(values[c] for c in members if values.get(c) is not None)
    if denominator is None:
        return top_total, None, missing, "no denominator for this year in the sources"
    return top_total, share(top_total, denominator), missing, None


SHARED_MEASURES = ("land_area", "population", "real_gdp", "exports_goods")
RANK_BY = {"exports": "exports_goods"}  # rank_by=exports: ITA goods exports, as sort=exports and rankings mean


def concentration(areas: Mapping[str, object], measures: Mapping, rank_by: str, year: int, top: int, territory: str,
                  universe: str, sources_of) -> dict | None:
    """The `top` CBSAs of a year's universe (`areas`: code → models.figures.Area, inside the territory asked) by
    `rank_by`, and their share of each measure's national denominator (schemas.stats.ConcentrationSchema): a share
    counts the members inside its own territory (models.figures.Measure.scope). None if no CBSA has a `rank_by`
    figure that year."""
    ranked = measures[RANK_BY.get(rank_by, rank_by)]
    candidates = [(code, v) for code, v in sorted(ranked.values.items()) if v is not None and code in areas]
    if not candidates:
        return None
    leaders = sorted(candidates, key=lambda kv: -kv[1])[:top]
    members = [c for c, _ in leaders]
    shares = []
    for name in SHARED_MEASURES:
        measure = measures[name]
        inside = [c for c in members if areas[c].territory in measure.scope.territories]
        top_total, pct, missing, reason = concentration_share(inside, measure.values, measure.denominator.value)
        shares.append({
            "measure": name, "dataset": measure.dataset, "denominator_dataset": measure.denominator.dataset,
            "territory": measure.scope.id, "territory_reason": measure.scope_reason,
            "top_total": top_total, "denominator": measure.denominator.value,
            "denominator_definition": measure.denominator.definition, "share": pct,
            "reason": (measure.denominator.reason or reason) if pct is None else None,
            "members_without_figure": missing,
            "members_outside_territory": [c for c in members if c not in inside],
            "figures_under_other_codes": [{"code": c, "figures_of": measure.under[c]}
                                          for c in inside if c in measure.under]})
    datasets = {m.dataset for m in measures.values()} | {m.denominator.dataset for m in measures.values()}
    return {
        "top": top, "rank_by": rank_by, "year": year, "territory": territory, "universe": universe,
        "universe_size": len(areas), "ranked": len(candidates),
        "unranked": [code for code in areas if ranked.values.get(code) is None],
        "sources": sources_of(datasets | {areas[c].source for c in members}),
        "members": [{"rank": i, "code": c, "name": areas[c].title, "value": v, "territory": areas[c].territory}
                    for i, (c, v) in enumerate(leaders, start=1)],
        "shares": shares,
    }
