"""One way to paginate: a select() cut into pages, with a total and Link headers."""

import math
from urllib.parse import urlencode

from flask import request
from sqlalchemy import Select, func, select

from api import db


def paginate(query: Select, page: int, page_size: int, scalars: bool = True) -> tuple[dict, dict]:
    """One page of `query` as a view returns it: the body {"data": items, "meta": {...}} and its `Link` and
    `X-Total-Count` headers."""
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    page_query = query.limit(page_size).offset((page - 1) * page_size)
    items = db.session.scalars(page_query).all() if scalars else db.session.execute(page_query).all()
    meta, headers = page_of(total, page, page_size)
    return {"data": items, "meta": meta}, headers


def page_of(total: int, page: int, page_size: int) -> tuple[dict, dict]:
    """The meta of one page of `total` items ({"total", "page", "page_size", "pages"}) and its `Link` and
    `X-Total-Count` headers."""
    pages = max(1, math.ceil(total / page_size))
    return ({"total": total, "page": page, "page_size": page_size, "pages": pages},
            {"Link": links(page, pages), "X-Total-Count": str(total)})


def links(page: int, pages: int) -> str:
    """RFC 8288 links to the first, previous, next and last pages of this request."""
    rels = {"first": 1, "last": pages}
    if page > 1:
        rels["prev"] = min(page - 1, pages)
    if page < pages:
        rels["next"] = page + 1
    return ", ".join(f'<{url_with(page=n)}>; rel="{rel}"' for rel, n in rels.items())


def url_with(**changes) -> str:
    """This request's URL with some parameters changed (None: left out)."""
    args = request.args.to_dict(flat=False)
    for name, value in changes.items():
        if value is None:
            args.pop(name, None)
        else:
            args[name] = [str(value)]
    return f"{request.base_url}?{urlencode(args, doseq=True)}"
