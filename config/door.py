"""The web tier's door (ADR 0010, "At the door"): saga starts the web cannot serve in time are turned away first.

Admission control counts attempts from the moment they are admitted. What it cannot see is
the queue in front of it: gunicorn's threaded worker hands each request to a pool of
threads, and when every thread is busy (a saturated CPU, or checkouts parked waiting for
their outcome) requests wait in that pool's queue, unseen, for seconds. Three rules, checked
here before any Django code runs, for the requests that start a saga (POST /orders,
POST /wdm/orders/checkout/<id>):

* **A standing queue.** The worker (QueueTimedThreadWorker) measures how long each request
  waited for a thread. When every request for QUEUE_INTERVAL_SECONDS waited longer than
  SAGA_WEB_QUEUE_SECONDS (CoDel's test: a queue that does not drain, not a burst), saga
  starts are answered 503 OVERLOADED at once until one request is served without waiting.
  Other requests (probes, reads, payments) pass: they are short, and what an operator needs.
* **Threads kept free.** A /wdm checkout holds its thread until its attempt settles. Each web
  process lets at most threads - SAGA_WEB_RESERVED_THREADS checkouts wait at once; one more is
  answered 503 OVERLOADED, so the reserved threads always serve probes and short requests.
* **A full budget.** admission_full() answers, from Redis or from what this process heard
  from it in the last 50 ms, what admission_acquire would: no Django, no database read.

Every refusal happens before anything is created or charged, and is counted with admission
control's refusals (`/readyz`, the dashboard). Outside gunicorn (runserver, the test server)
nothing is measured and there is no thread count: the door only asks the budget.
"""

import json
import re
import threading
import time

from django.conf import settings
from gunicorn.workers.gthread import ThreadWorker

from checkout.admission import admission_count_refusal, admission_full
from config.errors import Overloaded

__all__ = ["Door", "QueueTimedThreadWorker", "request_waited"]

RETRY_AFTER_SECONDS = 1  # the web's own queue drains in well under a second once it sheds
QUEUE_INTERVAL_SECONDS = 2.0  # waits above SAGA_WEB_QUEUE_SECONDS this long, without a break, are a standing queue
STARTS_A_SAGA = re.compile(r"^/(orders|wdm/orders/checkout/(?P<order_id>[^/]+))$")
WAITS_FOR_OUTCOME = "order_id"  # the group STARTS_A_SAGA names for the /wdm checkout

_request = threading.local()  # waited: how long the request this thread handles was queued for it (s)
_threads: int | None = None  # this web process' thread count, once a gunicorn worker runs it


def request_waited() -> float | None:
    """How long the request this thread handles waited for it, in seconds (None outside gunicorn)."""
    return getattr(_request, "waited", None)


class QueueTimedThreadWorker(ThreadWorker):
    """gunicorn's gthread worker, stamping each request with when it was queued for a thread."""

    def init_process(self) -> None:
        global _threads
        _threads = self.cfg.threads
        super().init_process()  # loads the application last

    def enqueue_req(self, conn) -> None:
        conn.queued_at = time.monotonic()
        super().enqueue_req(conn)

    def handle(self, conn):
        # measured when a thread takes the request, before gthread waits for a new connection's
        # first bytes: a client slow to send is not a web tier slow to serve
        queued_at = getattr(conn, "queued_at", None)
        _request.waited = None if queued_at is None else time.monotonic() - queued_at
        try:
            return super().handle(conn)
        finally:
            _request.waited = None


class Door:
    """WSGI middleware in front of Django (config/wsgi.py)."""

    def __init__(self, app) -> None:
        self.app = app
        self._lock = threading.Lock()
        self._waiting = 0
        self._above_since: float | None = None  # since when every request waited longer than the target

    def _standing_queue(self) -> float | None:
        """How long this request waited for a thread, if the process has a standing queue; else None.

        CoDel's test: one request that waited is a burst, which drains by itself; a queue in
        which every request waited longer than the target for QUEUE_INTERVAL_SECONDS is one
        that the web cannot drain. Every request counts (the queue is shared); a single one
        served at once ends it.
        """
        waited = request_waited()
        if waited is None:
            return None
        if waited <= settings.SAGA_WEB_QUEUE_SECONDS:
            self._above_since = None
            return None
        now = time.monotonic()
        above_since = self._above_since
        if above_since is None:
            self._above_since = now
            return None
        return waited if now - above_since >= QUEUE_INTERVAL_SECONDS else None

    @property
    def waiting_limit(self) -> int | None:
        """How many checkouts of this process may wait at once; None outside gunicorn."""
        if _threads is None:
            return None
        return max(1, _threads - settings.SAGA_WEB_RESERVED_THREADS)

    def __call__(self, environ, start_response):
        waited = self._standing_queue()
        route = STARTS_A_SAGA.match(environ.get("PATH_INFO", ""))
        if route is None or environ.get("REQUEST_METHOD") != "POST":
            return self.app(environ, start_response)
        order_id = route.group(WAITS_FOR_OUTCOME)
        if waited is not None:
            return self._refuse(start_response, order_id, f"requests wait for a web thread ({waited:.2f} s)")
        refusal = admission_full()
        if refusal is not None:
            return self._answer(start_response, order_id, refusal)
        if order_id is None:
            return self.app(environ, start_response)
        limit = self.waiting_limit
        with self._lock:
            if limit is not None and self._waiting >= limit:
                full = True
            else:
                full, self._waiting = False, self._waiting + 1
        if full:
            return self._refuse(start_response, order_id, f"{limit} checkouts already wait in this web process")
        try:
            return self.app(environ, start_response)  # Django's answer is complete when it returns
        finally:
            with self._lock:
                self._waiting -= 1

    def _refuse(self, start_response, order_id: str | None, reason: str) -> list[bytes]:
        """Turned away for the web's own reason: counted with admission control's refusals."""
        admission_count_refusal()
        detail = f"At capacity: {reason}. Retry after {RETRY_AFTER_SECONDS} s."
        return self._answer(start_response, order_id, Overloaded(retry_after=RETRY_AFTER_SECONDS, detail=detail))

    @staticmethod
    def _answer(start_response, order_id: str | None, refusal: Overloaded) -> list[bytes]:
        """503 OVERLOADED in the dialect's shape, as config.api.overloaded_response answers it, without DRF."""
        payload = json.dumps(refusal.body() if order_id is None else refusal.body(order_id=order_id)).encode()
        start_response(
            "503 Service Unavailable",
            [
                ("Content-Type", "application/json"),
                ("Content-Length", str(len(payload))),
                ("Retry-After", str(refusal.retry_after)),
            ],
        )
        return [payload]
