"""The saga's Celery tasks. Each one takes an attempt id and calls one service.

A task named `<service>.<action>` is routed to the `<service>` queue (see config.celery),
so stopping the consumers of one queue stops exactly that service.
"""

from celery import shared_task
from django.db import InterfaceError, OperationalError
from redis.exceptions import RedisError

from . import services
from .locks import LockTimeout

# Infrastructure hiccups are retried with backoff; business outcomes are return values.
RETRY = {
    "acks_late": True,
    "autoretry_for": (OperationalError, InterfaceError, RedisError, LockTimeout),
    "retry_backoff": True,
    "retry_backoff_max": 30,
    "max_retries": 10,
}


@shared_task(name="exchanges.apply", **RETRY)
def exchanges_apply(saga_id: int) -> str:
    return services.saga_step_apply(saga_id=saga_id, service="exchanges")


@shared_task(name="points.apply", **RETRY)
def points_apply(saga_id: int) -> str:
    return services.saga_step_apply(saga_id=saga_id, service="points")


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
    checkout_deadline.apply_async((saga_id,), eta=outcome)  # fired early (clock skew): wait again
    return "EARLY"


@shared_task(name="checkout.sweep_overdue", acks_late=True, ignore_result=True)
def checkout_sweep_overdue() -> int:
    return services.saga_sweep_overdue()
