"""One way to paginate: a select() cut into pages, with a total and Link headers."""

import math
from urllib.parse import urlencode

from flask import g, request
from sqlalchemy import Select, func, select

from api import db


def paginate(query: Select, page: int, page_size: int, scalars: bool = True) -> dict:
    """Run one page of `query`: {"data": items, "meta": {...}}; `Link` and `X-Total-Count` go in g.page_headers."""
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    page_query = query.limit(page_size).offset((page - 1) * page_size)
    items = db.session.scalars(page_query).all() if scalars else db.session.execute(page_query).all()
    pages = max(1, math.ceil(total / page_size))

    def link(number: int) -> str:
        args = request.args.to_dict(flat=False)
        args["page"] = [str(number)]
        return f"<{request.base_url}?{urlencode(args, doseq=True)}>"

    links = {"first": 1, "last": pages}
    if page > 1:
        links["prev"] = min(page - 1, pages)
    if page < pages:
        links["next"] = page + 1

    g.page_headers = {"Link": ", ".join(f'{link(n)}; rel="{rel}"' for rel, n in links.items()),
                      "X-Total-Count": str(total)}

    return {"data": items, "meta": {"total": total, "page": page, "page_size": page_size, "pages": pages}}
