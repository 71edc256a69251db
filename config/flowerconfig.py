"""Flower's configuration file (`celery -A config flower --conf=config/flowerconfig.py`): /metrics behind basic auth.

Flower 2.2.0 checks FLOWER_BASIC_AUTH in BaseHandler.get_current_user, which only handlers
decorated with tornado's @authenticated call: its pages and its HTTP API. Its Prometheus
/metrics (flower.views.monitor.Metrics: worker names, task names and counts) has no decorator,
so it answered anyone who reached the port. Decorated here, it asks for the same credentials,
and stays open exactly when Flower has no auth configured at all, as its pages do. /healthcheck
(answers "OK") stays open for probes.

Flower executes this file and reads back only the names of its own options; none is set here.
"""

import tornado.web
from flower.views.monitor import Metrics

if not hasattr(Metrics.get, "__wrapped__"):  # tornado's decorator marks what it wraps (functools.wraps)
    Metrics.get = tornado.web.authenticated(Metrics.get)
