import re
import unicodedata

from sqlalchemy import Column, ForeignKey, Select, String, Table, UniqueConstraint, func, or_, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base

CURRENT = "2023"  # the newest delineation in the store

# What `territory` holds for a place inside the 50 states and DC; a territory's own places hold its USPS code (PR).
STATES_DC = "states_dc"

# Abbreviations written both ways in titles and queries ('St. Louis', 'Saint Louis'), folded to the long form.
# Undotted only before another word, so that the state code in 'Billings, MT' stays a state code.
ABBREVIATIONS = {"st": "saint", "ft": "fort", "mt": "mount"}
_ABBREVIATION = re.compile(r"\b(st|ft|mt)(?:\.|(?=\s+[a-z]))")


def fold(title: str) -> str:
    """Lower-case, accent-free, single-spaced, single hyphens, St./Ft./Mt. spelled out: how titles are compared
    and searched.

    OMB writes a double hyphen between places whose names hold a hyphen ('Scranton--Wilkes-Barre, PA');
    ITA writes one.
    """
    text = unicodedata.normalize("NFKD", title)
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = re.sub(r"\s+", " ", re.sub(r"-+", "-", text)).strip().lower()
    return _ABBREVIATION.sub(lambda m: ABBREVIATIONS[m.group(1)], text)


geography_states = Table(
    "geography_states",
    Base.metadata,
    Column("geography_id", ForeignKey("geographies.id"), primary_key=True),
    Column("state_id", ForeignKey("geographies.id"), primary_key=True),
)


class Geography(Base):
    """A place figures are reported for: the nation, a state, a CBSA, or one of the sources' unallocated rows."""

    __tablename__ = "geographies"
    __table_args__ = (UniqueConstraint("kind", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    code: Mapped[str] = mapped_column(String(32), index=True)
    name: Mapped[str]
    usps: Mapped[str | None] = mapped_column(String(2))
    metro_type: Mapped[str | None] = mapped_column(String(16))
    delineation: Mapped[str | None] = mapped_column(String(16))
    # A CBSA: in the delineation in force in the newest year (the 2023 list, or March 2020 where that list lacks the
    # area: Puerto Rico, Connecticut). Null for places that are not CBSAs.
    current: Mapped[bool | None]
    # states_dc (inside the 50 states and DC) or the territory's USPS code (PR); null for the nation and for
    # unallocated rows, which cover no one territory.
    territory: Mapped[str | None] = mapped_column(String(16))
    # A retired CBSA: the current CBSA that holds most of its land (cbsa_successions gives every step).
    successor_id: Mapped[int | None] = mapped_column(ForeignKey("geographies.id"))
    # Title in each delineation vintage that has this CBSA ({"2023": "...", "2013": "..."}); for an unallocated row,
    # the title its source writes ({"ita": "Z-Other Metropolitan Areas"}).
    titles: Mapped[dict] = mapped_column(default=dict)
    # Lower-case, accent-free name and former titles: what `q` searches.
    search_text: Mapped[str] = mapped_column(default="")

    states: Mapped[list["Geography"]] = relationship(
        secondary=geography_states,
        primaryjoin=id == geography_states.c.geography_id,
        secondaryjoin=id == geography_states.c.state_id,
        order_by="Geography.code",
        lazy="selectin",
        join_depth=1,  # a self-referential relationship is eager-loaded only with a depth (else one query per row)
    )

    @property
    def place(self) -> dict:
        """The place as a series names it."""
        return {"kind": self.kind, "code": self.code, "name": self.name}

    @property
    def former_titles(self) -> list[str]:
        return sorted({t for t in (self.titles or {}).values() if t != self.name})

    @property
    def type(self) -> str:
        return self.metro_type or self.kind

    @property
    def usps_list(self) -> list[str]:
        return [s.usps for s in self.states]


def search_text(titles) -> str:
    """The folded titles, each once, as `q` searches them."""
    return " | ".join(dict.fromkeys(fold(t) for t in titles))


# What GET /v1/metros lists: every place /v1/metros/{code} answers for.
LISTED = ("metro", "unallocated")


def metros(q: str | None = None, state_id: int | None = None, type: str | None = None,
           current: bool | None = None, kinds: tuple[str, ...] = ("metro",)) -> Select:
    """CBSAs (or the sources' unallocated rows, type='unallocated'; without a type, the `kinds` given) matching
    every filter given."""
    if type == "unallocated":
        kinds = ("unallocated",)
    elif type is not None:
        kinds = ("metro",)
    query = select(Geography).where(Geography.kind.in_(kinds))
    if type in ("metropolitan", "micropolitan"):
        query = query.where(Geography.metro_type == type)
    for word in fold(q or "").split():
        pattern = "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(Geography.search_text.like(pattern, escape="\\"))
    if state_id is not None:
        query = query.where(Geography.id.in_(
            select(geography_states.c.geography_id).where(geography_states.c.state_id == state_id)))
    if current is not None:
        query = query.where(Geography.current.is_(current))
    return query


def states() -> Select:
    return select(Geography).where(Geography.kind == "state").order_by(Geography.code)


def find(kinds: tuple[str, ...], *codes: str) -> Select:
    """Places of `kinds` by code."""
    return select(Geography).where(Geography.kind.in_(kinds), Geography.code.in_(codes))


def find_state(*codes: str) -> Select:
    """States, DC or territories by FIPS code (06, 6) or USPS code (CA, ca)."""
    fips = [c.zfill(2) for c in codes if c.isdigit()]
    usps = [c.upper() for c in codes if not c.isdigit()]
    return select(Geography).where(Geography.kind == "state", or_(Geography.code.in_(fips), Geography.usps.in_(usps)))


def state_key(code: str) -> str:
    """How find_state matches a code: the FIPS code (zero-padded) or the upper-case USPS code."""
    return code.zfill(2) if code.isdigit() else code.upper()


def metro_count(state_id: int) -> Select:
    """How many CBSAs have the state among their principal states."""
    return select(func.count()).where(geography_states.c.state_id == state_id)
