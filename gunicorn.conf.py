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
# Request line and headers: refuse oversize ones (414/431 from gunicorn) rather than buffer them.
limit_request_line = 4094
limit_request_fields = 50
limit_request_field_size = 8190
accesslog = os.environ.get("ACCESS_LOG", "-")


class JsonAccessLogger(Logger):
    """One JSON object per request on the access log."""

    def access(self, resp, req, environ, request_time):
        if not (self.cfg.accesslog or self.cfg.logconfig or self.cfg.syslog):
            return
        headers = dict(resp.headers)
        self.access_log.info(json.dumps({
            "time": datetime.datetime.now(datetime.UTC).isoformat(timespec="milliseconds"),
            "remote": environ.get("REMOTE_ADDR"),
            "method": environ.get("REQUEST_METHOD"),
            "path": environ.get("PATH_INFO"),
            "query": environ.get("QUERY_STRING"),
            "status": resp.status_code,
            "bytes": getattr(resp, "sent", None),
            "duration_ms": round(request_time.total_seconds() * 1000, 3),
            "request_id": headers.get("X-Request-ID"),
            "cache": headers.get("X-Cache"),
            "user_agent": environ.get("HTTP_USER_AGENT"),
        }))


logger_class = JsonAccessLogger


def post_worker_init(worker):
    """Let a long download tell the arbiter the worker is alive: a sync worker otherwise proves it only between
    requests, and is killed after `timeout` seconds of one response, however steadily it is sending."""
    worker.wsgi.extensions["heartbeat"] = worker.notify
