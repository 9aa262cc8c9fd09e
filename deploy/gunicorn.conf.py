"""gunicorn settings of one hiroba app server (read by deploy/systemd/hiroba-web@.service and
scripts/cluster.sh): `gunicorn -c deploy/gunicorn.conf.py hiroba.wsgi`.

Every value comes from the environment, so one file serves every app server:
HIROBA_BIND (127.0.0.1:8001), HIROBA_WEB_WORKERS (2 × cores, at least 2), HIROBA_WEB_THREADS (4),
HIROBA_WEB_TIMEOUT (60 s), HIROBA_WEB_MAX_REQUESTS (100,000), HIROBA_WEB_PIDFILE, HIROBA_WEB_ACCESS_LOG ("-":
standard output).
"""

import multiprocessing
import os

bind = os.environ.get("HIROBA_BIND", "127.0.0.1:8001")
workers = int(os.environ.get("HIROBA_WEB_WORKERS", max(2, 2 * multiprocessing.cpu_count())))
worker_class = "gthread"
threads = int(os.environ.get("HIROBA_WEB_THREADS", "4"))
timeout = int(os.environ.get("HIROBA_WEB_TIMEOUT", "60"))
graceful_timeout = 30
keepalive = 5  # nginx keeps connections to the app servers open (upstream keepalive)
backlog = 256
# A worker is replaced after this many requests (with jitter, so they do not restart together): a
# guard against a slow leak, kept rare because each replacement imports Django again while the
# worker's queue waits (docs/performance.md, "gunicorn workers no longer recycled every 4 s").
max_requests = int(os.environ.get("HIROBA_WEB_MAX_REQUESTS", "100000"))
max_requests_jitter = max_requests // 10
pidfile = os.environ.get("HIROBA_WEB_PIDFILE") or None
accesslog = os.environ.get("HIROBA_WEB_ACCESS_LOG") or None
# One JSON object a line, with the request id nginx set (X-Request-ID) and the time taken.
access_log_format = ('{"time":"%(t)s","request_id":"%({x-request-id}i)s","client":"%({x-forwarded-for}i)s",'
                     '"method":"%(m)s","path":"%(U)s","status":%(s)s,"bytes":"%(B)s","duration_us":%(D)s}')
errorlog = "-"
loglevel = os.environ.get("HIROBA_WEB_LOG_LEVEL", "warning")
proc_name = f"hiroba-web-{bind.rsplit(':', 1)[-1]}"
