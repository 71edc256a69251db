"""Probes for an orchestrator: /healthz (the process answers) and /readyz (it can do its work).

/readyz answers 503 naming what failed: the database, Redis (locks and the waiting
checkouts' notifications), or a service queue that no worker consumes. Its body also
reports admission control (ADR 0010), which never makes it fail: every web process shares
one budget, so a probe failing while it sheds would take every one of them out at once.
"""

import redis
from django.conf import settings
from django.db import connection
from django.http import JsonResponse

from checkout.admission import admission_state
from config.celery import SERVICE_QUEUES, app

TIMEOUT_SECONDS = 1.0


def healthz(request) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def _database() -> str | None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as error:  # any failure makes the probe say so
        return f"{type(error).__name__}: {error}".strip()
    return None


def _redis() -> str | None:
    try:
        client = redis.Redis.from_url(
            settings.REDIS_URL, socket_timeout=TIMEOUT_SECONDS, socket_connect_timeout=TIMEOUT_SECONDS
        )
        client.ping()
    except Exception as error:
        return f"{type(error).__name__}: {error}".strip()
    return None


def _workers() -> tuple[dict[str, list[str]], str | None]:
    try:
        replies = app.control.inspect(timeout=TIMEOUT_SECONDS).active_queues() or {}
    except Exception as error:
        return {}, f"{type(error).__name__}: {error}".strip()
    consumers = {queue: [] for queue in SERVICE_QUEUES}
    for worker, queues in replies.items():
        for queue in queues:
            if queue["name"] in consumers:
                consumers[queue["name"]].append(worker)
    idle = [queue for queue, workers in consumers.items() if not workers]
    return consumers, (f"no worker consumes: {', '.join(idle)}" if idle else None)


def _admission() -> dict:
    try:
        return admission_state().as_json()
    except Exception as error:  # Redis' own check names the failure; the body still answers
        return {"error": f"{type(error).__name__}: {error}".strip()}


def readyz(request) -> JsonResponse:
    consumers, workers_error = _workers()
    checks = {"database": _database(), "redis": _redis(), "workers": workers_error}
    failed = [name for name, error in checks.items() if error]
    body = {
        "status": "unavailable" if failed else "ready",
        "failed": failed,
        "errors": {name: error for name, error in checks.items() if error},
        "queues": consumers,
        # what the benchmarks check before they measure (docs/adr/0008-cost-per-saga.md)
        "profile": {"debug": settings.DEBUG, "taskEvents": settings.CELERY_WORKER_SEND_TASK_EVENTS},
        "admission": _admission(),
        "access": {
            "mode": settings.SAGA_API_MODE,
            "wdmOpen": settings.SAGA_WDM_OPEN,
            "batchInit": settings.SAGA_BATCH_INIT,
        },
    }
    return JsonResponse(body, status=503 if failed else 200)
