"""gunicorn settings for the plain (non-streaming) requests; docs/deployment.md says why and what was measured.

    gunicorn -c python:jianguan.gunicorn_conf jianguan.wsgi

WEB_CONCURRENCY worker processes (default: 2 per core), each with WEB_THREADS threads. Every process gets a
database pool of exactly WEB_THREADS connections (DB_POOL_MAX_SIZE, unless set), so the web tier holds at most
WEB_CONCURRENCY × WEB_THREADS PostgreSQL connections however hard it is loaded.
"""

import os

bind = [os.environ.get("WEB_BIND", "127.0.0.1:8000")]
workers = int(os.environ.get("WEB_CONCURRENCY", str(2 * (os.cpu_count() or 1))))
threads = int(os.environ.get("WEB_THREADS", "2"))
worker_class = os.environ.get("WEB_WORKER_CLASS", "gthread")
os.environ.setdefault("DB_POOL_MAX_SIZE", str(threads))
keepalive = 5  # seconds an idle keep-alive connection is kept (behind nginx: its upstream keepalive)
timeout = 30  # a worker silent this long is restarted
graceful_timeout = 10
max_requests = 20000  # recycle workers now and then (memory), each at a different moment
max_requests_jitter = 2000
accesslog = os.environ.get("WEB_ACCESS_LOG") or None  # "-" for stdout; nginx usually logs already
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
