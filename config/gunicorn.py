"""gunicorn's settings file (`gunicorn -c python:config.gunicorn ...`): its own log lines in LOG_FORMAT too.

The access lines come from Django (config.access), with the request and order ids, so
gunicorn's access logger is muted; its error log (start-up, workers booting and dying)
goes through the same handler and formatter as the application's records.
"""

import os

from config.logs import logging_config

# gunicorn's threaded worker, stamping when it queued each request for a thread (config/door.py)
worker_class = "config.door.QueueTimedThreadWorker"

# An idle keep-alive connection waits in the worker's poller, holding no thread. gunicorn's default
# (2 s) closes connections that clients still hold, and a request sent as one closes gets no answer
# ("Remote end closed connection without response" in saga_bench's open loop, 2026-12-03). Clients
# keep theirs longer (aiohttp, which seed 004's tests use, 15 s), so the server keeps them longer.
keepalive = 20

logconfig_dict = logging_config(
    log_format=os.environ.get("LOG_FORMAT", "json"),
    level=os.environ.get("DJANGO_LOG_LEVEL", "INFO"),
    loggers={
        "gunicorn.error": {"handlers": [], "propagate": True},  # its level stays --log-level
        "gunicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
    },
)
