"""gunicorn settings; each can be overridden on the command line or by the environment variables read here."""

import datetime
import json
import os

from gunicorn.glogging import Logger

bind = os.environ.get("BIND", "127.0.0.1:8000")
# 2 sync workers matched 4 on a 2-core machine; sync avoids gthread's uneven spread of connections.
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "sync"
timeout = 30
keepalive = 5
# Request line and headers: gunicorn refuses (414/431, text/html) a request line over 4094 bytes, more than 50
# header lines or one over 8190 bytes (as nginx's default buffers), so it reads at most about 400 KiB of
# headers; the app then refuses (431 problem) more than MAX_HEADER_BYTES (32 KiB) in all, before any other work.
limit_request_line = 4094
limit_request_fields = 50
limit_request_field_size = 8190
accesslog = os.environ.get("ACCESS_LOG", "-")


def entry(resp, req, environ: dict, request_time) -> dict:
    """The access-log object of one request. gunicorn also logs the answers of its own error path (a 400 for a
    malformed request, a 500 after a worker-timeout abort): their response has a status line but no
    `status_code`, and their environ no PATH_INFO (the request never reached the app)."""
    status = str(getattr(resp, "status", None) or "").split(None, 1)[:1]
    headers = {str(name).lower(): value for name, value in getattr(resp, "headers", None) or ()}
    return {
        "time": datetime.datetime.now(datetime.UTC).isoformat(timespec="milliseconds"),
        "remote": environ.get("REMOTE_ADDR"),
        "method": environ.get("REQUEST_METHOD"),
        "path": environ.get("PATH_INFO") or getattr(req, "path", None),
        "query": environ.get("QUERY_STRING"),
        "status": int(status[0]) if status and status[0].isdigit() else None,
        "bytes": getattr(resp, "sent", None),
        "duration_ms": round(request_time.total_seconds() * 1000, 3),
        "request_id": headers.get("x-request-id"),
        "cache": headers.get("x-cache"),
        "user_agent": environ.get("HTTP_USER_AGENT"),
        "pid": os.getpid(),
    }


class JsonAccessLogger(Logger):
    """One JSON object per request on the access log."""

    def access(self, resp, req, environ, request_time):
        # Never raise: gunicorn calls this inside its error handler, where an exception kills the worker.
        try:
            if self.cfg.accesslog or self.cfg.logconfig or self.cfg.syslog:
                self.access_log.info(json.dumps(entry(resp, req, environ, request_time), default=str))
        except Exception:  # noqa: BLE001 - whatever gunicorn hands us, the worker lives on
            self.exception("No access-log entry for this request")


logger_class = JsonAccessLogger


def post_worker_init(worker):
    """Let a long download tell the arbiter the worker is alive: a sync worker otherwise proves it only between
    requests, and is killed after `timeout` seconds of one response, however steadily it is sending."""
    worker.wsgi.extensions["heartbeat"] = worker.notify
