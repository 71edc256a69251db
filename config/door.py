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
* **Threads kept free.** A /wdm checkout holds its thread until its attempt settles, and so does
  a POST /orders with `Prefer: wait=N` (N > 0) for up to N seconds: both count as waiting
  checkouts. Each web process lets at most threads - SAGA_WEB_RESERVED_THREADS of them wait at
  once (event streams, below, included); one more is answered 503 OVERLOADED, so the reserved
  threads always serve probes and short requests.
* **A full budget.** admission_full() answers, from Redis or from what this process heard
  from it in the last 50 ms, what admission_acquire would: no Django, no database read.

Event streams (GET /events/stream) hold their thread too, for up to 300 s: each process keeps
at most SAGA_SSE_MAX_STREAMS of them open (a quarter of its threads unless set), and they count
with the waiting checkouts against threads - SAGA_WEB_RESERVED_THREADS, so that together they
never take the reserved threads either. One more stream is answered 503 before Django; a
stream's place is given back when the server closes its answer, however it ended.

Every refusal happens before anything is created or charged; those of saga starts are counted
with admission control's refusals (`/readyz`, the dashboard), a stream's are not (it starts no
saga). None has an access line (Django never sees it): the door logs them all, by reason, in one
line a second at most while it turns requests away (TurnedAway). Outside gunicorn (runserver;
Django's test server does not load this module) nothing is measured and there is no thread
count: the door only asks the budget, and caps streams at STREAMS_OUTSIDE_GUNICORN unless
SAGA_SSE_MAX_STREAMS is set.
"""

import json
import logging
import math
import re
import threading
import time
from collections import Counter
from urllib.parse import parse_qs

from django.conf import settings
from gunicorn.workers.gthread import ThreadWorker

from checkout.admission import admission_count_refusal, admission_full
from config.errors import Overloaded
from config.prefer import prefer_wait

__all__ = ["Door", "QueueTimedThreadWorker", "TurnedAway", "request_waited"]

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 1  # the web's own queue drains in well under a second once it sheds
QUEUE_INTERVAL_SECONDS = 2.0  # waits above SAGA_WEB_QUEUE_SECONDS this long, without a break, are a standing queue
STARTS_A_SAGA = re.compile(r"^/(orders|wdm/orders/checkout/(?P<order_id>[^/]+))$")
WAITS_FOR_OUTCOME = "order_id"  # the group STARTS_A_SAGA names for the /wdm checkout
STREAM = "/events/stream"  # server-sent events (checkout/apis.py): a thread each until the stream ends
STREAM_SECONDS = 300  # checkout.serializers.STREAM_SECONDS (not imported: this module loads before Django's apps)
STREAM_SHARE = 4  # unless SAGA_SSE_MAX_STREAMS says otherwise, a quarter of a process' threads may stream ...
STREAMS_OUTSIDE_GUNICORN = 32  # ... and where there is no thread count, as many as in the Procfile's 128

TURNED_AWAY_LOG_SECONDS = 1.0  # while it turns requests away, the door logs what it turned away once a second at most
WHY = {  # a refusal's reason: its key in the log line's `turnedAway`, and its words in the message
    "budgetFull": "budget full",
    "noThread": "no thread left for a waiting request",
    "standingQueue": "standing queue for threads",
    "streamsFull": "event streams at their limit",
}
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


class TurnedAway:
    """What the door turned away, by reason (WHY), logged as one line per window of TURNED_AWAY_LOG_SECONDS.

    Its refusals come before Django, so the access log never sees them: this is where an operator reads why
    a web process sheds. A window opens with a refusal and is logged by the first refusal that comes after
    it closed (no timer thread): a calm process logs nothing, and the last window of an episode is logged
    with the next refusal, its own length and start in the line.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()
        self._first = self._last = 0.0  # the window's first and latest refusal (monotonic)

    def add(self, why: str) -> None:
        now = time.monotonic()
        with self._lock:
            closed = None
            if self._counts and now - self._first >= TURNED_AWAY_LOG_SECONDS:
                closed, seconds, ago = self._counts, self._last - self._first, now - self._first
                self._counts = Counter()
            if not self._counts:
                self._first = now
            self._counts[why] += 1
            self._last = now
        if closed is not None:
            reasons = ", ".join(f"{WHY[key]}: {n}" for key, n in closed.most_common())
            log.info(
                "door: turned away %d requests in %.2f s starting %.1f s ago (%s)",
                closed.total(),
                seconds,
                ago,
                reasons,
                extra={"turnedAway": dict(closed), "seconds": round(seconds, 3)},
            )


class Door:
    """WSGI middleware in front of Django (config/wsgi.py)."""

    def __init__(self, app) -> None:
        self.app = app
        self.turned_away = TurnedAway()
        self._lock = threading.Lock()
        self._waiting = 0
        self._streams: dict[object, float] = {}  # each open event stream: when it ends by its ?seconds= (monotonic)
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
        """How many checkouts and event streams of this process may hold a thread at once; None outside gunicorn."""
        if _threads is None:
            return None
        return max(1, _threads - settings.SAGA_WEB_RESERVED_THREADS)

    @property
    def stream_limit(self) -> int:
        """How many event streams this process keeps open at once."""
        if settings.SAGA_SSE_MAX_STREAMS is not None:
            return settings.SAGA_SSE_MAX_STREAMS
        return STREAMS_OUTSIDE_GUNICORN if _threads is None else max(1, _threads // STREAM_SHARE)

    def __call__(self, environ, start_response):
        waited = self._standing_queue()
        path = environ.get("PATH_INFO", "")
        if path == STREAM:
            return self._stream(environ, start_response)
        route = STARTS_A_SAGA.match(path)
        if route is None or environ.get("REQUEST_METHOD") != "POST":
            return self.app(environ, start_response)
        order_id = route.group(WAITS_FOR_OUTCOME)
        if waited is not None:
            reason = f"requests wait for a web thread ({waited:.2f} s)"
            return self._refuse(start_response, order_id, reason, why="standingQueue")
        refusal = admission_full()
        if refusal is not None:
            self.turned_away.add("budgetFull")
            return self._answer(start_response, order_id, refusal)
        if order_id is None and not prefer_wait(environ.get("HTTP_PREFER")):
            return self.app(environ, start_response)  # a POST /orders that answers at once
        limit = self.waiting_limit
        with self._lock:
            waiting, streams = self._waiting, len(self._streams)
            full = limit is not None and waiting + streams >= limit
            if not full:
                self._waiting += 1
        if full:
            reason = f"{waiting} checkouts already wait in this web process"
            reason += f", {streams} event streams are open" if streams else ""
            return self._refuse(start_response, order_id, reason, why="noThread")
        try:
            return self.app(environ, start_response)  # Django's answer is complete when it returns
        finally:
            with self._lock:
                self._waiting -= 1

    def _stream(self, environ, start_response):
        """An event stream takes a place until the server closes its answer, or is answered 503 at once."""
        token, now = object(), time.monotonic()
        with self._lock:
            refusal = self._streams_full(now)
            if refusal is None:
                self._streams[token] = now + _stream_seconds(environ.get("QUERY_STRING", ""))
        if refusal is not None:
            self.turned_away.add("streamsFull")
            return self._answer(start_response, None, refusal)

        def release() -> None:
            with self._lock:
                self._streams.pop(token, None)

        try:
            answer = self.app(environ, start_response)
        except BaseException:
            release()
            raise
        return _Holding(answer, release)

    def _streams_full(self, now: float) -> Overloaded | None:
        """Why one more stream may not open in this process, if it may not (called under the lock)."""
        streams, limit = len(self._streams), self.waiting_limit
        if streams >= self.stream_limit:
            # when the first place frees by itself: the stream due to end first (a client that leaves frees one sooner)
            retry_after = max(1, math.ceil(min(self._streams.values(), default=now + STREAM_SECONDS) - now))
            reason = f"{streams} event streams are open in this web process, its most"
        elif limit is not None and self._waiting + streams >= limit:
            retry_after = RETRY_AFTER_SECONDS
            reason = f"{self._waiting} checkouts wait and {streams} event streams are open in this web process"
        else:
            return None
        detail = f"At capacity: {reason}. Retry after {retry_after} s."
        return Overloaded(retry_after=retry_after, detail=detail)

    def _refuse(self, start_response, order_id: str | None, reason: str, *, why: str) -> list[bytes]:
        """Turned away for the web's own reason: counted with admission control's refusals."""
        admission_count_refusal()
        self.turned_away.add(why)
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


def _stream_seconds(query_string: str) -> int:
    """How long a stream asked to last (`?seconds=`, 1 to STREAM_SECONDS); the default for anything else."""
    asked = parse_qs(query_string).get("seconds", [""])[-1].strip()
    seconds = int(asked) if asked.isascii() and asked.isdigit() else 0
    return seconds if 1 <= seconds <= STREAM_SECONDS else STREAM_SECONDS


class _Holding:
    """An answer whose request holds a place until the server closes it: PEP 3333 servers call close()
    whether the body was sent in full, the client left, the app raised while it was sent, or it was never
    iterated at all (gunicorn in a `finally`), so the place cannot leak."""

    def __init__(self, answer, release) -> None:
        self._answer, self._release = answer, release

    def __iter__(self):
        return iter(self._answer)

    def close(self) -> None:
        try:
            close = getattr(self._answer, "close", None)
            if close is not None:
                close()  # Django's response: its generator, request_finished (the database connection)
        finally:
            self._release()
