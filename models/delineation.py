"""CBSA delineations over time: what each vintage made metropolitan or micropolitan, with land area and internal
point, which vintage is in force for a data year, and which codes succeeded which."""

from bisect import bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy import ForeignKey, Index, Select, String, Text, literal, or_, select
from sqlalchemy.orm import Mapped, aliased, mapped_column

from models.base import Base
from models.geography import Geography


@dataclass(frozen=True)
class Vintage:
    id: str
    label: str
    first_year: int  # the first data year it is in force for
    source: str  # dataset id of the file that gives it
    land: str  # how the land area of its CBSAs is known
    national_land: str  # dataset id of the county Gazetteer on (nearly) the same boundaries: the national land


GAZETTEER_2010 = "census-gazetteer-2010-counties"
GAZETTEER_2020 = "census-gazetteer-2020-counties"

# Oldest first. A delineation is in force from the data year it names: ITA's Poughkeepsie (39100) reports again
# from 2018 (September 2018 delineation) and Sandusky (41780) from 2023 (July 2023). The files hold no delineation
# older than December 2009, so it stands in for 2005-2008 too.
VINTAGES = (
    Vintage("2009", "December 2009", 0, "tiger-cbsa-2012",
            "ALAND of the TIGER/Line 2012 CBSA file (2010 Census boundaries)", GAZETTEER_2010),
    Vintage("2013", "February 2013", 2013, "omb-delineation-2013",
            "sum of its counties' ALAND in the 2010 Gazetteer county file", GAZETTEER_2010),
    Vintage("2015", "2015 (TIGER CBSA layer, 2015-2017)", 2015, "tiger-cbsa-2015",
            "ALAND of the TIGER CBSA layer (2015-2017 boundaries)", GAZETTEER_2010),
    Vintage("2018", "2018 (county table, 2017-2018)", 2018, "omb-delineation-2018",
            "sum of its counties' ALAND in the 2020 Gazetteer county file", GAZETTEER_2020),
    Vintage("2020", "March 2020", 2020, "census-gazetteer-2020-cbsa",
            "ALAND of the 2020 Gazetteer CBSA file", GAZETTEER_2020),
    Vintage("2023", "July 2023", 2023, "omb-delineation-2023",
            "sum of its counties' ALAND in the 2020 Gazetteer county file", GAZETTEER_2020),
)
BY_ID = {v.id: v for v in VINTAGES}
_STARTS = [v.first_year for v in VINTAGES]


def vintage_in_force(year: int) -> Vintage:
    """The delineation in force for a data year (the December 2009 one for every year before 2013)."""
    return VINTAGES[max(bisect_right(_STARTS, year) - 1, 0)]


class CbsaDelineation(Base):
    """A CBSA as one delineation vintage defines it.

    A vintage whose file lacks a territory (Puerto Rico in the 2018 table and the 2023 list, Connecticut in the
    2023 list) holds the March 2020 rows for it, with a note: the rows of a vintage are its universe.
    """

    __tablename__ = "cbsa_delineations"
    __table_args__ = (Index("ix_cbsa_delineations_vintage", "vintage", "metro_type"),)

    geography_id: Mapped[int] = mapped_column(ForeignKey("geographies.id"), primary_key=True)
    vintage: Mapped[str] = mapped_column(String(8), primary_key=True)
    metro_type: Mapped[str] = mapped_column(String(16))
    title: Mapped[str]
    land_area_m2: Mapped[int | None]
    # How land_area_m2 was found (dataset ids), or why it is unknown.
    land_source: Mapped[str] = mapped_column(Text)
    intpt_lat: Mapped[float | None]  # internal point (not a centroid) where the file gives one
    intpt_lon: Mapped[float | None]
    county_count: Mapped[int | None]  # where the file lists counties
    source: Mapped[str] = mapped_column(String(64))  # dataset id of the file the row comes from
    note: Mapped[str | None] = mapped_column(Text)

    @property
    def label(self) -> str:
        return BY_ID[self.vintage].label

    @property
    def internal_point(self) -> dict | None:
        return None if self.intpt_lat is None else {"lat": self.intpt_lat, "lon": self.intpt_lon,
                                                     "vintage": self.vintage}


class Succession(Base):
    """Land of one CBSA that another held in the next delineation with county lists (2009, 2013, 2018, 2023),
    recorded where a code was retired or created: found by county overlap."""

    __tablename__ = "cbsa_successions"

    predecessor_id: Mapped[int] = mapped_column(ForeignKey("geographies.id"), primary_key=True)
    successor_id: Mapped[int] = mapped_column(ForeignKey("geographies.id"), primary_key=True)
    vintage: Mapped[str] = mapped_column(String(8), primary_key=True)  # the successor's delineation
    from_vintage: Mapped[str] = mapped_column(String(8))  # the predecessor's delineation
    counties: Mapped[int]  # counties the two share
    share_of_predecessor: Mapped[float]  # of the predecessor's land, the part the successor took
    share_of_successor: Mapped[float]  # of the successor's land, the part that came from the predecessor
    predecessor_retired: Mapped[bool]  # the predecessor's code is not in the successor's delineation
    successor_new: Mapped[bool]  # the successor's code is not in the predecessor's delineation


def in_force(year: int, metro_type: str | None = "metropolitan") -> Select:
    """The CBSAs of the delineation in force for `year` (metropolitan ones by default): the universe of a year.

    Columns: code, name (the store's current title), territory, and the delineation's row (title, type, land,
    internal point, county count, source, note).
    """
    d = CbsaDelineation
    query = (select(Geography.code, Geography.name, Geography.territory, d.vintage, d.title, d.metro_type,
                    d.land_area_m2, d.land_source, d.intpt_lat, d.intpt_lon, d.county_count, d.source, d.note)
             .join(d, d.geography_id == Geography.id).where(d.vintage == vintage_in_force(year).id))
    if metro_type is not None:
        query = query.where(d.metro_type == metro_type)
    return query.order_by(Geography.code)


def history(geography_id: int) -> Select:
    """A CBSA in every vintage that has it, oldest first."""
    return select(CbsaDelineation).where(CbsaDelineation.geography_id == geography_id).order_by(
        CbsaDelineation.vintage)


def successions(geography_id: int) -> Select:
    """Every succession step into or out of a CBSA: predecessor and successor codes and titles, the vintages and
    the shares of land, oldest first."""
    before, after = aliased(Geography), aliased(Geography)
    s = Succession
    return (select(before.code.label("predecessor"), before.name.label("predecessor_name"),
                   after.code.label("successor"), after.name.label("successor_name"), s.from_vintage, s.vintage,
                   s.counties, s.share_of_predecessor, s.share_of_successor, s.predecessor_retired, s.successor_new)
            .join(before, before.id == s.predecessor_id).join(after, after.id == s.successor_id)
            .where(or_(s.predecessor_id == geography_id, s.successor_id == geography_id))
            .order_by(s.vintage, before.code, after.code))


def successor(geography_id: int) -> Select:
    """The current CBSA that holds most of a retired CBSA's land (no row for a current or unmapped CBSA)."""
    after = aliased(Geography)
    return (select(after.kind, after.code, after.name).join(Geography, Geography.successor_id == after.id)
            .where(Geography.id == geography_id))


def map_points() -> Select:
    """Every CBSA's internal point from the newest vintage whose own file gives one (not a stand-in row), with its
    id, current type and title: where the explorer map draws it."""
    d, newer = CbsaDelineation, aliased(CbsaDelineation)
    has_point = (d.intpt_lat.is_not(None), d.note.is_(None))
    later = select(newer.vintage).where(newer.geography_id == d.geography_id, newer.vintage > d.vintage,
                                        newer.intpt_lat.is_not(None), newer.note.is_(None))
    return (select(Geography.code, Geography.name, Geography.metro_type, Geography.current, Geography.territory,
                   d.intpt_lat, d.intpt_lon, d.vintage, Geography.id)
            .join(d, d.geography_id == Geography.id).where(*has_point, ~later.exists())
            .order_by(Geography.code))


def land(geography_id: int) -> Select:
    """A CBSA's land area from the newest delineation that knows it: (land_area_m2, vintage)."""
    d = CbsaDelineation
    return (select(d.land_area_m2, d.vintage)
            .where(d.geography_id == geography_id, d.land_area_m2.is_not(None))
            .order_by(d.vintage.desc()).limit(1))


def succession_edges() -> Select:
    """(predecessor code, successor code, share of the predecessor's land the successor took, share of the
    successor's land that came from the predecessor) of every step."""
    before, after = aliased(Geography), aliased(Geography)
    s = Succession
    return (select(before.code.label("predecessor"), after.code.label("successor"), s.share_of_predecessor,
                   s.share_of_successor)
            .join(before, before.id == s.predecessor_id).join(after, after.id == s.successor_id)
            .order_by(before.code, after.code))


WHOLE = 0.99  # a share of land at least this large is all of it (county land is summed from rounded files)


def aliases(universe: Iterable[str], edges: Iterable[tuple[str, str, float, float]]) -> dict[str, str]:
    """{code outside the universe: the universe's code for the same area}, for sources that file a year's figures
    under another delineation's code (ITA files Dayton's 2010 exports under 19430, the 2009 delineation calls it
    19380).

    A code stands for a universe CBSA when one succession step links the two, the whole of the predecessor's land
    went to the successor and made most of it (a renumbering, or a CBSA that grew by a county: not Anderson, IN,
    a tenth of Indianapolis), and it stands for no other.
    """
    universe = set(universe)
    found: dict[str, set[str]] = {}
    for predecessor, successor_, of_predecessor, of_successor in edges:
        if of_predecessor < WHOLE or of_successor <= 0.5 or (predecessor in universe) == (successor_ in universe):
            continue
        inside, outside = (predecessor, successor_) if predecessor in universe else (successor_, predecessor)
        found.setdefault(outside, set()).add(inside)
    return {code: next(iter(inside)) for code, inside in found.items() if len(inside) == 1}


def attribute(universe: Iterable[str], aliases_: Mapping[str, str],
              figures: Mapping[str, float | None]) -> tuple[dict[str, float | None], dict[str, str]]:
    """Each universe CBSA's figure from a source's {code: figure}: under its own code, else under the one alias that
    has a figure; and {universe code: the code whose figure it took} where that is another one."""
    taken: dict[str, list[str]] = {}
    for code, value in figures.items():
        if value is not None and code in aliases_:
            taken.setdefault(aliases_[code], []).append(code)
    values, under = {}, {}
    for code in universe:
        if figures.get(code) is not None:
            values[code] = figures[code]
        elif len(taken.get(code, ())) == 1:
            values[code], under[code] = figures[taken[code][0]], taken[code][0]
        else:
            values[code] = None
    return values, under


@dataclass(frozen=True)
class Event:
    """A CBSA's code retired into another CBSA, or created from one, in a delineation."""

    kind: str  # retired | created
    vintage: str
    other: str  # the other CBSA's title and code, as a reason names it


def events() -> Select:
    """(geography id, kind, vintage, other CBSA's code and current title) of every retirement and creation."""
    s, other = Succession, aliased(Geography)
    retired = (select(s.predecessor_id.label("geography_id"), literal("retired").label("kind"), s.vintage,
                      other.code, other.name).join(other, other.id == s.successor_id).where(s.predecessor_retired))
    created = (select(s.successor_id.label("geography_id"), literal("created").label("kind"), s.vintage,
                      other.code, other.name).join(other, other.id == s.predecessor_id).where(s.successor_new))
    return retired.union_all(created)


def not_metropolitan(history: dict[str, tuple[str, str]], changes: list[Event], year: int) -> str | None:
    """Why an area was not a metropolitan area in the delineation in force for `year`, or None if it was one.

    `history` is the area's {vintage: (type, title)}; `changes` its retirements and creations.
    """
    vintage = vintage_in_force(year)
    where = f"the {vintage.label} delineation, in force for {year}"
    if vintage.id in history:
        type_, title = history[vintage.id]
        return None if type_ == "metropolitan" else f"{title} was a {type_} area in {where}."
    before = sorted((e for e in changes if e.vintage <= vintage.id), key=lambda e: e.vintage)
    if before and before[-1].kind == "retired":
        last = before[-1].vintage
        homes = ", ".join(e.other for e in before if e.vintage == last and e.kind == "retired")
        if last == vintage.id:
            return f"Not a CBSA in {where}, which put its counties in {homes}."
        return f"Not a CBSA in {where}: the {BY_ID[last].label} delineation had put its counties in {homes}."
    after = sorted((e for e in changes if e.vintage > vintage.id and e.kind == "created"), key=lambda e: e.vintage)
    if after:
        first = after[0].vintage
        sources = ", ".join(e.other for e in after if e.vintage == first)
        return f"Not a CBSA in {where}: the {BY_ID[first].label} delineation created it from {sources}."
    return f"Not a CBSA in {where}."
