"""What happens to an order, in one file.

    POST /orders ─ OrderCreated ──► exchanges.apply ──► points.apply ──► orders.approve
                                   ExchangeSucceed      PointUsed         OrderPlaced
                                   | ExchangeFailed     | PointUseFailed
                                         └──────────┬────────┘
    checkout.deadline at deadline_at ─ DeadlineReached ─┤
                                                        ▼
                                   OrderRejected ──► points.compensate ──► exchanges.compensate ──► checkout.compensated
                                                     PointUseCompensated   ExchangeCompensated     CompensationCompleted
                                                     | PointUseCancelled   | ExchangeCancelled

* Each checkout of an order is one attempt (a Saga row) that snapshots the order's lines
  and cost; the steps take what the attempt says (ADR 0004).
* The steps run in the order of STEPS as one Celery chain of immutable signatures; every
  link re-reads the saga from the database and does nothing once the saga is decided.
* Approve and reject are the only transitions out of PENDING. Each holds the order's
  Redis lock and commits through a compare-and-set on (status, version): one wins.
* A step refuses expired work: it checks the deadline before it applies (`*Expired`).
* A rejection compensates, last first, every step that may have applied: after a step's
  failure, the steps before it; after a deadline, all of them. A step that never applied
  gets a tombstone (`*Cancelled`) so that, if it arrives later, it is refused (`*Refused`).
* A task named `<service>.<action>` runs on the `<service>` queue (config.celery).
"""

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from celery import Signature, chain, signature

from checkout.models import Saga, Service
from checkout.participant import Outcome, ParticipantRecord, ParticipantStatus
from exchanges import services as exchanges
from exchanges.models import Exchange
from points import services as points
from points.models import PointUse


@dataclass(frozen=True)
class Step:
    service: Service  # its queue, its swimlane, the prefix of its task names
    record: type[ParticipantRecord]
    apply: Callable[[Saga], Outcome]
    compensate: Callable[[Saga], Outcome]
    describe: Callable[[ParticipantRecord, Saga], dict]  # the payload of its events
    applied: str
    failed: str
    compensated: str
    cancelled: str
    refused: str
    expired: str


def _exchange_apply(saga: Saga) -> Outcome:
    return exchanges.exchange_apply(
        saga_id=saga.pk, order_id=saga.order_id, holder_id=saga.order.holder_id, lines=saga.lines, cost=saga.cost
    )


def _exchange_describe(exchange: Exchange, saga: Saga) -> dict:
    # The units an exchange took are its attempt's lines, one per currency (exchange_apply
    # stores them so): read from the attempt, not queried back. A failed exchange took
    # nothing, a tombstone never ran.
    took = exchange.status in (ParticipantStatus.APPLIED, ParticipantStatus.COMPENSATED)
    units = Counter()
    for currency_id, amount in saga.lines if took else ():
        units[currency_id] += amount
    return {
        "userId": exchange.holder_id,
        "point": exchange.cost,
        "lines": [{"currencyId": currency_id, "amount": amount} for currency_id, amount in sorted(units.items())],
        "reason": exchange.reason or None,
    }


def _points_apply(saga: Saga) -> Outcome:
    return points.points_use(saga_id=saga.pk, order_id=saga.order_id, user_id=saga.order.holder_id, amount=saga.cost)


def _points_describe(use: PointUse, saga: Saga) -> dict:
    return {"userId": use.user_id, "point": use.balance_after, "used": use.amount, "reason": use.reason or None}


STEPS: tuple[Step, ...] = (
    Step(
        service=Service.EXCHANGES,
        record=Exchange,
        apply=_exchange_apply,
        compensate=lambda saga: exchanges.exchange_compensate(saga_id=saga.pk, order_id=saga.order_id),
        describe=_exchange_describe,
        applied="ExchangeSucceed",
        failed="ExchangeFailed",
        compensated="ExchangeCompensated",
        cancelled="ExchangeCancelled",
        refused="ExchangeRefused",
        expired="ExchangeExpired",
    ),
    Step(
        service=Service.POINTS,
        record=PointUse,
        apply=_points_apply,
        compensate=lambda saga: points.points_use_compensate(saga_id=saga.pk, order_id=saga.order_id),
        describe=_points_describe,
        applied="PointUsed",
        failed="PointUseFailed",
        compensated="PointUseCompensated",
        cancelled="PointUseCancelled",
        refused="PointUseRefused",
        expired="PointUseExpired",
    ),
)
STEP_BY_SERVICE = {step.service: step for step in STEPS}


def step_chain(saga_id: int) -> chain:
    """Every step in order, then the approval."""
    links = [signature(f"{step.service}.apply", args=(saga_id,), immutable=True) for step in STEPS]
    return chain(*links, signature("orders.approve", args=(saga_id,), immutable=True))


def deadline_countdown(saga_id: int) -> Signature:
    """The deadline task, sent with `eta=deadline_at` (ADR 0003)."""
    return signature("checkout.deadline", args=(saga_id,), immutable=True)


def steps_that_may_have_applied(failed: str | None) -> tuple[Step, ...]:
    """What a rejection must compensate.

    A step that failed proves the later ones never started: the chain stops at it, and
    a later step is sent only when the one before it applied. A deadline (failed=None)
    proves nothing: any step may be running, so every step is compensated, and those
    that never ran get their tombstones.
    """
    if failed is None:
        return STEPS
    return STEPS[: [step.service for step in STEPS].index(failed)]


def compensation_chain(saga_id: int, steps: tuple[Step, ...]) -> chain:
    """The steps' compensations, last step first, then the mark that all of them ran."""
    links = [signature(f"{step.service}.compensate", args=(saga_id,), immutable=True) for step in reversed(steps)]
    return chain(*links, signature("checkout.compensated", args=(saga_id,), immutable=True))
