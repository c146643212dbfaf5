"""The statistics as pure functions, table-tested: every edge case decided once, in models/growth.py."""

import pytest

from models.growth import change, delineation_caveats, in_units, index, rank, share
from models.stats import Place, aggregate, concentration_share, ranking


@pytest.mark.parametrize("series, start, end, expected", [
    # plain growth: absolute, percent, CAGR over 2 years
    ({2010: 100.0, 2012: 121.0}, 2010, 2012, (21.0, 21.0, 10.0, [])),
    # decline
    ({2010: 200.0, 2011: 150.0}, 2010, 2011, (-50.0, -25.0, -25.0, [])),
    # a single point: no change, and no CAGR
    ({2010: 5.0}, 2010, 2010, (0.0, 0.0, None, ["CAGR needs two different years"])),
    # zero base: absolute only
    ({2010: 0.0, 2011: 7.0}, 2010, 2011, (7.0, None, None, [
        "percent change is undefined from a zero base",
        "CAGR is undefined unless the start value is positive and the end value is not negative"])),
    # negative base (a net figure): percent against |base|, no CAGR
    ({2010: -10.0, 2011: 5.0}, 2010, 2011, (15.0, 150.0, None, [
        "CAGR is undefined unless the start value is positive and the end value is not negative"])),
    # missing end year
    ({2010: 10.0}, 2010, 2012, (None, None, None, ["no figure for 2012 (no observation)"])),
    # suppressed start year (None in the series)
    ({2010: None, 2012: 10.0}, 2010, 2012, (None, None, None, ["no figure for 2010 (not_available)"])),
])
def test_change(series, start, end, expected):
    result = change(series, start, end)
    assert (result.absolute, result.percent, result.cagr, result.reasons) == expected
    assert (result.start_year, result.end_year) == (start, end)
    assert "cagr = 100 * ((end / start) ** (1 / (end_year - start_year)) - 1)" in result.formula


def test_change_names_the_status_of_a_missing_figure():
    result = change({2014: None, 2013: 460274194.0}, 2013, 2014, {2014: "suppressed"})
    assert result.reasons == ["no figure for 2014 (suppressed)"]


def test_change_refuses_a_reversed_range():
    with pytest.raises(ValueError):
        change({2010: 1.0, 2011: 2.0}, 2011, 2010)


def test_cagr_is_rounded_to_six_decimals():
    assert change({2010: 3.0, 2013: 7.0}, 2010, 2013).cagr == round(100 * ((7 / 3) ** (1 / 3) - 1), 6) == 32.63524


BEFORE_2010 = "year-on-year change needs the year before: no figure for 2009 (no observation)"
AFTER_GAP = "year-on-year change needs the year before: no figure for 2011 (suppressed)"


@pytest.mark.parametrize("units, base, totals, expected, reason, reasons", [
    ("level", None, None, {2010: 100.0, 2011: None, 2012: 150.0}, None, {}),
    ("change", None, None, {2010: None, 2011: None, 2012: None}, None, {2010: BEFORE_2010, 2012: AFTER_GAP}),
    ("percent_change", None, None, {2010: None, 2011: None, 2012: None}, None, {2010: BEFORE_2010, 2012: AFTER_GAP}),
    ("index", 2010, None, {2010: 100.0, 2011: None, 2012: 150.0}, None, {}),
    ("index", 2011, None, {2010: None, 2011: None, 2012: None}, "no figure for the base year 2011",
     {2010: "no figure for the base year 2011", 2012: "no figure for the base year 2011"}),
    ("share", None, {2010: 1000.0, 2012: 0.0}, {2010: 10.0, 2011: None, 2012: None}, None,
     {2012: "the national total for 2012 is not positive"}),
])
def test_in_units_with_a_gap(units, base, totals, expected, reason, reasons):
    """A value that cannot be computed from a year's figure is null with the reason (its point is not 'ok')."""
    assert in_units({2010: 100.0, 2011: None, 2012: 150.0}, units, base, totals, {2011: "suppressed"}) == (
        expected, reason, reasons)


def test_a_share_names_why_a_year_has_no_total():
    result = in_units({2012: 5.0, 2013: 6.0}, "share", totals={2012: 50.0},
                      missing_totals={2013: "the file gives 1 of the 51 rows"})
    assert result == ({2012: 10.0, 2013: None}, None, {2013: "the file gives 1 of the 51 rows"})
    assert in_units({2010: 0.0, 2011: 4.0}, "percent_change").reasons == {
        2010: BEFORE_2010, 2011: "percent change is undefined from a zero base"}


def test_year_on_year_change():
    values = in_units({2010: 100.0, 2011: 110.0, 2012: 99.0}, "percent_change").values
    assert values == {2010: None, 2011: 10.0, 2012: -10.0}
    assert in_units({2010: 100.0, 2011: 110.0}, "change")[0] == {2010: None, 2011: 10.0}


def test_index_with_zero_base():
    assert index({2010: 0.0, 2011: 3.0}, 2010) == ({2010: None, 2011: None}, "the base year's value is zero")


def test_share():
    assert share(1, 3) == 33.333333
    assert share(None, 3) is None and share(1, 0) is None and share(1, None) is None


def test_rank_ties_share_a_rank_and_the_next_skips():
    assert rank([("a", 5), ("b", 9), ("c", 5), ("d", 1)]) == [("b", 9, 1), ("a", 5, 2), ("c", 5, 2), ("d", 1, 4)]
    assert rank([("a", 5), ("b", 9), ("c", 5)], descending=False) == [("a", 5, 1), ("c", 5, 1), ("b", 9, 3)]


def test_ranking_excludes_with_reasons():
    places = [
        Place("1", "One", {2010: (100.0, "ok"), 2020: (200.0, "ok")}),
        Place("2", "Two", {2010: (None, "suppressed"), 2020: (50.0, "ok")}),
        Place("3", "Three", {2010: (5.0, "ok"), 2020: (50.0, "ok")}),
        Place("4", "Four", {2010: (0.0, "ok"), 2020: (50.0, "ok")}),
        Place("5", "Five", {2010: (400.0, "ok"), 2020: (800.0, "ok")}),
    ]
    ranked, excluded, count = ranking(places, "growth", start=2010, end=2020, min_base=10)
    assert [(r["code"], r["value"], r["rank"]) for r in ranked] == [("1", 100.0, 1), ("5", 100.0, 1)]
    assert count == 2
    assert [(e["code"], e["reason"]) for e in excluded] == [
        ("2", "no figure for 2010 (suppressed)"),
        ("3", "base 5 is below min_base 10"),
        ("4", ("percent change is undefined from a zero base; CAGR is undefined unless the start value is positive "
              "and the end value is not negative"))]
    ranked, _, count = ranking(places, "share", year=2020, totals={2020: 1000.0}, limit=2)
    assert [(r["code"], r["value"], r["rank"]) for r in ranked] == [("5", 80.0, 1), ("1", 20.0, 2)]
    assert count == 5


def test_delineation_caveats():
    assert delineation_caveats(2014, 2017) == []
    assert "(2013, 2018)" in delineation_caveats(2012, 2020)[0]


def test_aggregate_and_concentration():
    result = aggregate({"a": 10.0, "b": None, "c": 30.0, "other-metro": 40.0}, {"a": 5.0, "c": 15.0}, 2020, 2010, 20,
                       160.0, "rows", ["a", "b", "c"])
    assert (result["total"], result["base_total"], result["places_with_figure"], result["above_threshold"]) == (
        80.0, 20.0, 3, 1)  # the unallocated row is above the threshold, but not a place
    assert (result["change"].percent, result["share_of_national_total"]) == (300.0, 50.0)
    assert concentration_share(["a", "b"], {"a": 3.0, "b": None}, 12.0) == (3.0, 25.0, ["b"], None)
    assert concentration_share(["a"], {"a": 3.0}, None) == (3.0, None, [], "no denominator for this year in the sources")
