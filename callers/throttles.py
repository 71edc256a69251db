"""One caller's share (ADR 0012): a count per caller, per route class and per window, in Redis.

Every web process counts in the same Redis key, so the limit holds across processes. A fixed
window (one INCR and one EXPIRE in one round trip) costs the same at any rate, where DRF's
SimpleRateThrottle keeps a list of every request's time per caller and rewrites it on each
request. Over the limit: 429 with Retry-After, the seconds left in the window. If Redis does
not answer, the request is let through: a throttle protects the service, it must not stop it.

Admission control (ADR 0010) is another matter: it protects the saga's capacity from everyone.
"""

import functools
import logging
import time

from django.conf import settings
from redis.exceptions import RedisError
from rest_framework.throttling import BaseThrottle

from checkout.locks import redis_client

from .authentication import Caller
from .models import Scope
from .permissions import required_scope

log = logging.getLogger(__name__)

# The route classes that limits are set for; a scope's routes count in its class.
ROUTE_CLASS = {
    Scope.ORDERS_PLACE: "place",
    Scope.POINTS_MOVE: "money",
    Scope.POINTS_MINT: "money",
    Scope.READ: "read",
    Scope.STOCK_WRITE: "manage",
    Scope.BATCH_INIT: "manage",
    Scope.USERS_TOKEN: "manage",
}
PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@functools.cache
def parse_rate(rate: str) -> tuple[int, int]:
    """ "600/min" -> (600, 60): requests, and the window in seconds (s, min, h, d as DRF spells them)."""
    count, _, period = rate.partition("/")
    return int(count), PERIODS[period.strip()[0]]


class CallerThrottle(BaseThrottle):
    def allow_request(self, request, view) -> bool:
        if not settings.SAGA_THROTTLE:
            return True
        route_class = ROUTE_CLASS.get(required_scope(view, request.method))
        if route_class is None:
            return True
        limit, period = parse_rate(settings.SAGA_THROTTLE_RATES[route_class])
        caller = request.user
        who = caller.throttle_key if isinstance(caller, Caller) and caller.kind != "open" else self.get_ident(request)
        now = time.time()
        key = f"throttle:{route_class}:{who}:{int(now // period)}"
        try:
            with redis_client().pipeline(transaction=False) as pipe:
                count, _ = pipe.incr(key).expire(key, period + 1).execute()
        except (RedisError, OSError) as error:
            log.warning("throttle not counted (Redis: %s); request let through", error)
            return True
        self.seconds_left = period - now % period
        return count <= limit

    def wait(self) -> float:
        return self.seconds_left
