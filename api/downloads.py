"""Bulk files: every observation of a dataset as one CSV file, streamed from one snapshot in constant memory."""

import csv
import io
from collections.abc import Callable, Iterator

from flask import Response, current_app, request
from flask.views import MethodView
from flask_smorest import abort

from api import db, lookups
from api.caching import cached
from api.formats import CSV, csv_columns
from api.problems import Blueprint, not_found
from models import figures
from models.observation import figure, observations
from schemas.observations import COLUMNS, DownloadArgs

blp = Blueprint("downloads", __name__, url_prefix="/v1/datasets", description="Datasets as files.")
PARQUET = "application/vnd.apache.parquet"
CHUNK = 10_000  # rows fetched (PostgreSQL: from a server-side cursor) and written at a time


@blp.route("/<id>/download")
class DatasetDownload(MethodView):
    @blp.arguments(DownloadArgs(), location="query")
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(406, response="NOT_ACCEPTABLE", description="Parquet was asked for: only CSV is offered.")
    @cached
    @blp.response(200, description=(
        "Every observation of the dataset, in primary-key order: the same bytes for the same data version. Headers: "
        "X-Data-Version (the version the file was read from), X-Source-SHA256 (the SHA-256 of the source file, as "
        "/v1/datasets/{id} gives it; row_count there is the file's number of rows). gzip or brotli when "
        "Accept-Encoding asks."))
    @csv_columns(*COLUMNS, only=True)
    def get(self, args, id):
        """Download every observation of a dataset as one CSV file"""
        dataset = lookups.dataset(id)
        if request.accept_mimetypes.best_match([CSV, PARQUET], default=CSV) == PARQUET:
            abort(406, message="Parquet is not offered; the file is CSV (text/csv), gzip-encoded when asked.")
        snapshot = db.snapshot()
        if not snapshot.connection.scalar(observations([id]).limit(1).exists().select()):
            not_found(f"Dataset '{id}' holds no observations (it describes places or plans).",
                      f"Its provenance is at /v1/datasets/{id}")
        rows = snapshot.connection.execute(observations([id]).execution_options(stream_results=True, yield_per=CHUNK))
        return db.hand_over(Response(
            written(rows, figures.geographies(snapshot).by_id, current_app.extensions.get("heartbeat", lambda: None)),
            mimetype=CSV, headers={
                "Content-Disposition": f'attachment; filename="{id}.csv"', "X-Data-Version": snapshot.version,
                "X-Source-SHA256": dataset.sha256}))


def written(rows, places, heartbeat: Callable[[], None]) -> Iterator[bytes]:
    """The CSV file, a chunk of rows at a time."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    try:
        for chunk in rows.partitions():
            writer.writerows((r[0], r[1], *places[r[2]], r[3], r[4], r[5], figure(r[6]), r[7]) for r in chunk)
            yield out.getvalue().encode()
            out.seek(0)
            out.truncate()
            heartbeat()
        if out.tell():  # the header of a file without rows (an empty chunk would end a chunked body early)
            yield out.getvalue().encode()
    finally:
        rows.close()
