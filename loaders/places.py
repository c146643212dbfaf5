"""Places every source refers to: the nation, states, ITA's unallocated rows, and CBSA titles by vintage."""

import csv
from pathlib import Path

import us
from sqlalchemy import select
from sqlalchemy.orm import Session

from loaders.upsert import upsert
from models import Geography
from models.geography import STATES_DC, fold, search_text

# Newest first: a title is looked up in the newest delineation that has it.
VINTAGES = ("2023", "2020", "2018", "2015", "2013", "2009")

# ITA's rows that are not metros, with the titles ITA writes; they are part of national totals.
UNALLOCATED = {
    "crossovers": ("Crossovers (exports not allocated to one metro)", "Z-Crossovers"),
    "non-metro": ("Non-metropolitan areas", "Z-Non Metropolitan Areas"),
    "other-metro": ("Other metropolitan areas", "Z-Other Metropolitan Areas"),
    "unknown": ("Unknown location", "Z-Unknown"),
}
ITA_TITLES = {title: slug for slug, (_, title) in UNALLOCATED.items()}

CROSSWALK = Path(__file__).parent / "reference" / "title_crosswalk.csv"

# Spellings the Census files use that the `us` package does not know.
STATE_ALIASES = {"dist of columbia": "11", "us virgin islands": "78", "u.s. virgin islands": "78"}


def all_states():
    """The 50 states, DC and the five inhabited territories (the `us` package counts DC among them since 4.0)."""
    return us.STATES_AND_TERRITORIES


def seed(session: Session) -> None:
    """The nation, the states, DC and territories (from the `us` package), and ITA's unallocated rows (found by the
    titles ITA writes too)."""
    rows = [dict(kind="nation", code="US", name="United States", usps="US", search_text="united states",
                 territory=None, titles={})]
    for s in all_states():
        rows.append(dict(kind="state", code=s.fips, name=s.name, usps=s.abbr, search_text=fold(s.name),
                         territory=s.abbr if s.is_territory else STATES_DC, titles={}))
    for code, (name, title) in UNALLOCATED.items():
        rows.append(dict(kind="unallocated", code=code, name=name, search_text=search_text([name, title]),
                         territory=None, titles={"ita": title}))
    for row in rows:
        row.setdefault("usps", None)
        row.update(metro_type=None, delineation=None, current=None)
    upsert(session, Geography.__table__, rows, ["kind", "code"])


class Places:
    """Look-ups from the store: geography ids by code, metro codes by title, state ids by name."""

    def __init__(self, session: Session):
        self.ids: dict[tuple[str, str], int] = {}
        self.titles: dict[str, dict[str, str]] = {v: {} for v in VINTAGES}
        self.folded: dict[str, dict[str, str]] = {v: {} for v in VINTAGES}
        self.states: dict[str, str] = dict(STATE_ALIASES)
        rows = session.execute(select(Geography.id, Geography.kind, Geography.code, Geography.name, Geography.usps,
                                       Geography.titles))
        for id_, kind, code, name, usps, titles in rows:
            self.ids[kind, code] = id_
            if kind == "state":
                self.states.update({fold(name): code, usps.lower(): code, code: code})
            for vintage, title in (titles or {}).items() if kind == "metro" else ():
                self.titles[vintage].setdefault(title, code)
                self.folded[vintage].setdefault(fold(title), code)
        self.crosswalk = read_crosswalk()

    def id(self, kind: str, code: str) -> int | None:
        return self.ids.get((kind, code))

    def metro_code(self, title: str, order: tuple[str, ...] = VINTAGES) -> str | None:
        """The CBSA code of a title: newest delineation first, exact then accent-folded, then the crosswalk."""
        for vintage in order:
            if title in self.titles[vintage]:
                return self.titles[vintage][title]
        for vintage in order:
            if fold(title) in self.folded[vintage]:
                return self.folded[vintage][fold(title)]
        return self.crosswalk.get(title)

    def state_code(self, name: str) -> str | None:
        return self.states.get(fold(name))


def read_crosswalk() -> dict[str, str]:
    """The reviewed titles that no delineation file has (Puerto Rico and Connecticut 2023 titles)."""
    with open(CROSSWALK, newline="", encoding="utf-8") as f:
        return {row["title"]: row["cbsa"] for row in csv.DictReader(f)}
