"""gunicorn settings; each can be overridden on the command line."""

import os

bind = os.environ.get("BIND", "127.0.0.1:8000")
# 2 sync workers matched 4 on a 2-core machine; sync avoids gthread's uneven connection spread.
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "sync"
timeout = 30
keepalive = 5
accesslog = "-"
