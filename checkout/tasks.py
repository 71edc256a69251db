"""The saga's Celery tasks. Each one takes an attempt id and calls one service.

A task named `<service>.<action>` is routed to the `<service>` queue (see config.celery),
so stopping the consumers of one queue stops exactly that service.
"""

from datetime import timedelta

from celery import Task, shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError
from redis.exceptions import RedisError

from . import services
from .idempotency import idempotency_keys_forget
from .locks import LockTimeout
from .outbox import outbox_relay
from .saga import deadline_countdown

# Infrastructure hiccups are retried with backoff; business outcomes are return values.
RETRY = {
    "acks_late": True,
    "autoretry_for": (OperationalError, InterfaceError, RedisError, LockTimeout),
    "retry_backoff": True,
    "retry_backoff_max": 30,
    "max_retries": 10,
}


def _run_step(task: Task, saga_id: int, service: str) -> str:
    progress = services.saga_step_apply(saga_id=saga_id, service=service)
    if not progress.proceed:
        # Stop the chain: the later links would only find a decided saga. This is the way
        # Celery's author gives for protocol 2 chains (celery/celery#3550).
        task.request.chain = None
    return progress.summary


@shared_task(name="exchanges.apply", bind=True, **RETRY)
def exchanges_apply(self: Task, saga_id: int) -> str:
    return _run_step(self, saga_id, "exchanges")


@shared_task(name="points.apply", bind=True, **RETRY)
def points_apply(self: Task, saga_id: int) -> str:
    return _run_step(self, saga_id, "points")


@shared_task(name="orders.approve", **RETRY)
def orders_approve(saga_id: int) -> str:
    return services.saga_approve(saga_id=saga_id)


@shared_task(name="points.compensate", **RETRY)
def points_compensate(saga_id: int) -> str:
    return services.saga_step_compensate(saga_id=saga_id, service="points")


@shared_task(name="exchanges.compensate", **RETRY)
def exchanges_compensate(saga_id: int) -> str:
    return services.saga_step_compensate(saga_id=saga_id, service="exchanges")


@shared_task(name="checkout.compensated", **RETRY)
def checkout_compensated(saga_id: int) -> str:
    return services.saga_compensation_finish(saga_id=saga_id)


@shared_task(name="checkout.deadline", **RETRY)
def checkout_deadline(saga_id: int) -> str:
    outcome = services.saga_deadline(saga_id=saga_id)
    if isinstance(outcome, str):
        return outcome
    deadline_countdown(saga_id).apply_async(eta=outcome)  # fired early (clock skew): wait again
    return "EARLY"


# The backstops return None when another sweep holds their lock (ADR 0009). They send no task
# events (send_events=False; config.celery drops their task-sent event too): run every second,
# they would bury the saga's tasks in Flower, which lists tasks from their events (issue 12).
@shared_task(name="checkout.sweep_overdue", acks_late=True, ignore_result=True, send_events=False)
def checkout_sweep_overdue() -> int | None:
    return services.saga_sweep_overdue()


@shared_task(name="checkout.outbox_relay", acks_late=True, ignore_result=True, send_events=False)
def checkout_outbox_relay() -> int | None:
    return outbox_relay(older_than_seconds=settings.SAGA_OUTBOX_RELAY_AFTER_SECONDS)


@shared_task(name="checkout.idempotency_cleanup", acks_late=True, ignore_result=True, send_events=False)
def checkout_idempotency_cleanup() -> int:
    return idempotency_keys_forget(older_than=timedelta(seconds=settings.SAGA_IDEMPOTENCY_KEY_SECONDS))
