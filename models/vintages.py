"""Releases (vintages) of a series and its figures as known on a date.

A series is published again and again with revisions; each file the store loads is one release of its series
(`Dataset.series`, dated `Dataset.released_on`). For each place, indicator, industry and year, the figures known
on a date are those of the newest release dated on or before it that has figures for that place and year; a
partner that release lists no figure for had none (the files leave zero cells out).
"""

from collections.abc import Iterable
from datetime import date

from sqlalchemy import Select, and_, func, select

from models.dataset import Dataset
from models.observation import ALL_INDUSTRIES, Observation


def releases(series: str, as_of: date | None = None) -> Select:
    """The releases of a series, newest first (undated ones last); only those dated on or before `as_of`."""
    query = select(Dataset).where(Dataset.series == series)
    if as_of is not None:
        query = query.where(Dataset.released_on <= as_of)
    return query.order_by(Dataset.released_on.desc().nulls_last(), Dataset.id.desc())


def sole_releases() -> Select:
    """The ids of datasets that are the only release of their series: what a read over every dataset combines
    (a series released several times gives one figure per place and year only through figures())."""
    revised = select(Dataset.series).group_by(Dataset.series).having(func.count() > 1)
    return select(Dataset.id).where(Dataset.series.not_in(revised))


def series_of(dataset: str) -> Select:
    """The series a dataset is a release of (its own id if it is the only one)."""
    return select(Dataset.series).where(Dataset.id == dataset)


def covering(series: str, as_of: date | None = None, indicators: Iterable[str] = ("exports_goods",),
             geography_ids: Iterable[int] | None = None, years: Iterable[int] | None = None,
             industry: str = ALL_INDUSTRIES) -> Select:
    """Which releases have figures for each (indicator, place, industry, year), numbered `newest` = 1, 2, … from the
    newest release (dated on or before `as_of`) down."""
    o, d = Observation, Dataset
    newest = func.row_number().over(partition_by=(o.indicator, o.geography_id, o.industry, o.year),
                                    order_by=(d.released_on.desc().nulls_last(), o.dataset_id.desc()))
    query = (select(o.dataset_id, d.released_on, o.indicator, o.geography_id, o.industry, o.year,
                    newest.label("newest"))
             .join(d, d.id == o.dataset_id)
             .where(d.series == series, o.indicator.in_(list(indicators)), o.industry == industry)
             .group_by(o.dataset_id, d.released_on, o.indicator, o.geography_id, o.industry, o.year))
    if as_of is not None:
        query = query.where(d.released_on <= as_of)
    if geography_ids is not None:
        query = query.where(o.geography_id.in_(list(geography_ids)))
    if years is not None:
        query = query.where(o.year.in_(list(years)))
    return query


def figures(series: str, as_of: date | None = None, indicators: Iterable[str] = ("exports_goods",),
            geography_ids: Iterable[int] | None = None, partners: Iterable[str] | None = None,
            years: Iterable[int] | None = None, industry: str = ALL_INDUSTRIES) -> Select:
    """The figures of a series as known on `as_of` (default: the latest), each with the release it comes from."""
    o = Observation
    cover = covering(series, as_of, indicators, geography_ids, years, industry).subquery()
    query = (select(o.dataset_id, cover.c.released_on, o.geography_id, o.indicator, o.industry, o.partner, o.year,
                    o.value, o.status)
             .join(cover, and_(cover.c.dataset_id == o.dataset_id, cover.c.indicator == o.indicator,
                               cover.c.geography_id == o.geography_id, cover.c.industry == o.industry,
                               cover.c.year == o.year))
             .where(cover.c.newest == 1))
    if partners is not None:
        query = query.where(o.partner.in_(list(partners)))
    return query


def revisions(series: str, geography_id: int, partner: str, indicators: Iterable[str] = ("exports_goods",),
              years: Iterable[int] | None = None, industry: str = ALL_INDUSTRIES, as_of: date | None = None) -> Select:
    """Each release's figure of one place and partner: a row per release that covers the place and year, newest
    first, with that release's value and status (both null where it lists none: no exports in that release)."""
    o = Observation
    cover = covering(series, as_of, indicators, [geography_id], years, industry).subquery()
    figure = and_(o.dataset_id == cover.c.dataset_id, o.indicator == cover.c.indicator,
                  o.geography_id == cover.c.geography_id, o.industry == cover.c.industry, o.year == cover.c.year,
                  o.partner == partner)
    return (select(cover.c.dataset_id, cover.c.released_on, cover.c.indicator, cover.c.year, cover.c.newest, o.value,
                   o.status)
            .select_from(cover).outerjoin(o, figure)
            .order_by(cover.c.indicator, cover.c.year, cover.c.newest))
