"""Every write the saga makes. Tasks, views and admin actions call these and nothing else.

The flow itself (which steps, in which order, with which compensations) is in saga.py.
"""

import time
from collections.abc import Iterable, Sequence
from contextlib import nullcontext, suppress
from datetime import datetime, timedelta
from typing import NamedTuple

from django.conf import settings
from django.db import transaction
from django.db.models import DurationField, ExpressionWrapper, F, Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone

from config.logs import log_bind, log_scope
from config.sql import columns, row_to_model, row_to_partial_model, sql_get, sql_insert, sql_one, sql_run, table
from orders.models import Order, OrderLine, OrderStatus, RejectionReason
from orders.services import order_begin_attempt, order_create, order_open, order_set_outcome

from . import faults
from .admission import Overloaded, admission_acquire, admission_bind, admission_discard
from .events import event_record
from .locks import sweep_lock, transition_lock
from .models import OutboxKind, Saga, SagaStatus, Service
from .notify import NotSettled, Waiter, settled_announce, settled_listen, settled_unlisten, settled_wait
from .outbox import outbox_add
from .participant import ParticipantStatus
from .saga import STEP_BY_SERVICE, STEPS, steps_that_may_have_applied


def order_place(*, holder_id: str, lines: Iterable[tuple[int, int]]) -> Order:
    """The seed dialect: create an order and start its first attempt, in one transaction, once admitted.

    Raises Overloaded (ADR 0010) before anything is created when the system is at capacity.
    """
    lines = list(lines)
    with admission_acquire() as ticket, transaction.atomic():
        order = order_create(holder_id=holder_id, lines=lines)
        saga = saga_start(order=order, event_type="OrderCreated", attempt=1, lines=lines)
        admission_bind(ticket, saga_id=saga.pk)
    order.refresh_from_db()
    return order


def order_wait(*, order_id: int, seconds: float) -> Order:
    """The order once its newest attempt is settled, or as it is after `seconds` (the seed dialect's `Prefer: wait`).

    Waits as a /wdm checkout does (notify.settled_wait, ADR 0004), and never past the attempt's
    deadline + SAGA_WAIT_GRACE_SECONDS. Settled means approved, or rejected with every
    compensation done: a read right after the answer sees everything rolled back.
    """
    saga = Saga.objects.filter(order_id=order_id).order_by("-attempt").first()
    if saga is not None:
        wait_until = saga.deadline_at + timedelta(seconds=settings.SAGA_WAIT_GRACE_SECONDS)
        seconds = min(seconds, (wait_until - timezone.now()).total_seconds())
        # when the wait runs out: the order as it is now (PENDING, or REJECTED and still compensating)
        with suppress(NotSettled):
            settled_wait(saga, give_up_at=time.monotonic() + max(0.0, seconds))
    return Order.objects.prefetch_related("lines").get(pk=order_id)


def order_start_empty(*, holder_id: str) -> Order:
    """The checkout dialect: an empty order, filled item by item and checked out later."""
    with transaction.atomic():
        order = order_open(holder_id=holder_id)
        log_bind(orderId=order.pk)
        event_record(order_id=order.pk, event_type="OrderCreated", service=Service.ORDERS, holderId=holder_id)
    return order


def checkout_order(*, order_id: int) -> Saga:
    """Check an order out and return its settled attempt: APPROVED, or REJECTED and compensated.

    A paid order returns its approved attempt and starts nothing; an order being checked
    out returns that attempt once it settles; otherwise a new attempt starts (ADR 0004).
    Raises Order.DoesNotExist, or NotSettled if the attempt outlives its deadline by
    SAGA_WAIT_GRACE_SECONDS.
    """
    saga, waiter = _checkout_start(order_id, listen=True)
    wait_until = saga.deadline_at + timedelta(seconds=settings.SAGA_WAIT_GRACE_SECONDS)
    give_up_at = time.monotonic() + max(0.0, (wait_until - timezone.now()).total_seconds())
    return settled_wait(saga, give_up_at=give_up_at, waiter=waiter)


def checkout_start(*, order_id: int) -> Saga:
    """Start an attempt unless the order is paid or already being checked out; return the one that counts.

    The newest attempt is the one that counts when it is APPROVED or PENDING: at most one
    is pending, and a paid order starts no other. Only a new attempt needs admission: it
    raises Overloaded when the system is at capacity (ADR 0010).

    Admission is asked first, before any transaction: past capacity a refusal then costs one
    Redis call and one read, not a transaction and a row lock. A place taken for an order
    that turns out to need none is given back; an order that seemed to need none but does
    (it changed in between) asks again.
    """
    return _checkout_start(order_id, listen=False)[0]


def _checkout_start(order_id: int, *, listen: bool) -> tuple[Saga, Waiter | None]:
    """checkout_start; with `listen`, an attempt it starts is listened for before it is sent (ADR 0008).

    The listener is registered before the commit that sends the attempt, so the attempt cannot
    settle unheard and the waiter need not read it back first.
    """
    try:
        ticket = admission_acquire()
    except Overloaded:
        if _needs_new_attempt(order_id):  # an unknown order raises Order.DoesNotExist
            raise
        ticket = None
    waiter = None
    try:
        with ticket or nullcontext(), transaction.atomic():  # a ticket taken is freed if anything raises
            locked = sql_get(
                Order,
                f"SELECT holder_id, total_cost, generation FROM {table(Order)} WHERE id = %s FOR UPDATE",
                [order_id],
                key=order_id,
            )
            order = row_to_partial_model(
                Order, id=order_id, holder_id=locked[0], total_cost=locked[1], generation=locked[2]
            )
            newest, lines = _newest_attempt_and_lines(order_id)
            if newest is not None and _counts(newest.status, newest.generation, generation=order.generation):
                saga = newest
                if ticket is not None:
                    admission_discard(ticket)
            else:
                with ticket or admission_acquire() as taken:
                    attempt = newest.attempt + 1 if newest else 1
                    saga = saga_start(order=order, event_type="CheckoutStarted", attempt=attempt, lines=lines)
                    admission_bind(taken, saga_id=saga.pk)
                if listen:
                    waiter = settled_listen(saga.pk)
            log_bind(orderId=order.pk, sagaId=saga.pk)
    except BaseException:
        if waiter is not None:  # rolled back: nothing was sent, nothing to wait for
            settled_unlisten(saga.pk, waiter)
        raise
    return saga, waiter


def _newest_attempt_and_lines(order_id: int) -> tuple[Saga | None, list[list[int]]]:
    """The order's newest attempt, and its lines as a new attempt would take them: one statement.

    Read after the order's lock, in a statement of its own: one that waited for the lock must see
    the attempt its predecessor committed (a join in the locking statement would keep its
    snapshot). The lock keeps the lines as they are (order_add_item takes it too).
    """
    *newest, lines = sql_one(
        f"SELECT {columns(Saga, 's')}, l.lines FROM (SELECT 1) AS one LEFT JOIN LATERAL"
        f" (SELECT * FROM {table(Saga)} WHERE order_id = %s ORDER BY attempt DESC LIMIT 1) s ON true"
        " CROSS JOIN LATERAL (SELECT coalesce(json_agg(json_build_array(currency_id, amount) ORDER BY id), '[]')"
        f" FROM {table(OrderLine)} WHERE order_id = %s) AS l (lines)",
        [order_id, order_id],
    )
    return (row_to_model(Saga, newest) if newest[0] is not None else None), lines


def _counts(status: str | None, attempt_generation: int | None, *, generation: int) -> bool:
    """Whether the order's newest attempt is the answer: paid or pending, in the order's current generation.

    An attempt of an earlier generation belongs to the order a batch_init overwrote (ADR 0004).
    """
    return attempt_generation == generation and status in (SagaStatus.APPROVED, SagaStatus.PENDING)


def _needs_new_attempt(order_id: int) -> bool:
    """Whether checking the order out would start an attempt (a read, no lock: a refusal's cheap check)."""
    generation, newest_status, newest_generation = sql_get(
        Order,
        f"SELECT o.generation, s.status, s.generation FROM {table(Order)} o LEFT JOIN LATERAL (SELECT status,"
        f" generation FROM {table(Saga)} WHERE order_id = o.id ORDER BY attempt DESC LIMIT 1) s ON true"
        " WHERE o.id = %s",
        [order_id],
        key=order_id,
    )
    return not _counts(newest_status, newest_generation, generation=generation)


def saga_start(*, order: Order, event_type: str, attempt: int, lines: Iterable[Sequence[int]]) -> Saga:
    """Open attempt number `attempt` of the order's lines (currency id, amount) and cost; send it after commit."""
    deadline_at = timezone.now() + timedelta(seconds=settings.SAGA_DEADLINE_SECONDS)
    lines = [[currency_id, amount] for currency_id, amount in lines]
    saga = Saga(
        order=order,
        attempt=attempt,
        generation=order.generation,
        deadline_at=deadline_at,
        lines=lines,
        cost=order.total_cost,
    )
    sql_insert(saga)
    log_bind(orderId=order.pk, sagaId=saga.pk)
    event_record(
        saga=saga,
        event_type=event_type,
        service=Service.ORDERS,
        along=[order_begin_attempt(order_id=order.pk, deadline_at=deadline_at)],
        id=order.pk,
        holderId=order.holder_id,
        currencyId=lines[0][0] if len(lines) == 1 else None,
        amount=lines[0][1] if len(lines) == 1 else None,
        lines=[{"currencyId": c, "amount": a} for c, a in lines],
        cost=order.total_cost,
        attempt=attempt,
        deadline=deadline_at.isoformat(),
    )
    outbox_add(saga=saga, kind=OutboxKind.START)
    return saga


def _load(saga_id: int) -> Saga:
    """The attempt, with its order's holder (the one other field a transition reads), in one statement."""
    row = sql_get(
        Saga,
        f"SELECT {columns(Saga, 's')}, o.holder_id FROM {table(Saga)} s JOIN {table(Order)} o ON o.id = s.order_id"
        " WHERE s.id = %s",
        [saga_id],
        key=saga_id,
    )
    saga = row_to_model(Saga, row[:-1])
    saga.order = row_to_partial_model(Order, id=saga.order_id, holder_id=row[-1])
    log_bind(orderId=saga.order_id, sagaId=saga.pk)
    return saga


def _expired(saga: Saga, now: datetime) -> bool:
    return now >= saga.deadline_at


class StepProgress(NamedTuple):
    summary: str  # what the step did, shown as the task's result in Flower
    proceed: bool  # whether the rest of the chain has anything left to do


def saga_step_apply(*, saga_id: int, service: str) -> StepProgress:
    """Run one step of an attempt, unless the attempt is decided or its deadline has passed."""
    step = STEP_BY_SERVICE[service]
    saga = _load(saga_id)
    if faults.before_expiry_check(saga, step.service):
        saga.refresh_from_db()
    if _expired(saga, timezone.now()):
        with transaction.atomic():
            event_record(
                saga=saga, event_type=step.expired, service=step.service, deadline=saga.deadline_at.isoformat()
            )
        saga_reject(saga_id=saga_id, reason=RejectionReason.DEADLINE, fired_by=step.service)
        return StepProgress("EXPIRED", proceed=False)
    if saga.status != SagaStatus.PENDING:
        return StepProgress(f"SKIPPED (saga {saga.status})", proceed=False)
    faults.after_expiry_check(saga, step.service)
    with transaction.atomic():
        record, changed = step.apply(saga)
        if changed:
            event_type = step.applied if record.status == ParticipantStatus.APPLIED else step.failed
            event_record(saga=saga, event_type=event_type, service=step.service, **step.describe(record, saga))
        elif record.status in (ParticipantStatus.CANCELLED, ParticipantStatus.COMPENSATED):
            event_record(saga=saga, event_type=step.refused, service=step.service, status=record.status)
            return StepProgress(f"REFUSED ({record.status})", proceed=False)
    if record.status == ParticipantStatus.FAILED:
        saga_reject(saga_id=saga_id, reason=record.reason, failed_step=step.service)
        return StepProgress(f"FAILED ({record.reason})", proceed=False)
    return StepProgress(record.status if changed else f"REPLAYED ({record.status})", proceed=True)


def saga_step_compensate(*, saga_id: int, service: str) -> str:
    """Undo one step of a rejected attempt, or leave its tombstone."""
    step = STEP_BY_SERVICE[service]
    saga = _load(saga_id)
    if saga.status != SagaStatus.REJECTED:
        return f"SKIPPED (saga {saga.status})"
    # Committed before the work, so that the sweeper knows this compensation ran if it then
    # fails or hangs; one still waiting in a queue never stamps it (ADR 0009).
    Saga.objects.filter(pk=saga_id, compensated_at=None, compensation_started_at=None).update(
        compensation_started_at=timezone.now()
    )
    with transaction.atomic():
        record, changed = step.compensate(saga)
        if changed:
            event_type = step.compensated if record.status == ParticipantStatus.COMPENSATED else step.cancelled
            event_record(saga=saga, event_type=event_type, service=step.service, **step.describe(record, saga))
        # Done: the chain now sends the next link, which waits in its queue until it starts.
        Saga.objects.filter(pk=saga_id, compensated_at=None).update(
            compensation_started_at=None, compensation_sent_at=timezone.now()
        )
    return record.status if changed else f"REPLAYED ({record.status})"


def saga_compensation_finish(*, saga_id: int) -> str:
    """Mark that every compensation of a rejected attempt has run (once)."""
    with transaction.atomic():
        return "COMPENSATED" if _compensation_finished(_load(saga_id)) else "SKIPPED"


def _compensation_finished(saga: Saga) -> bool:
    marked = Saga.objects.filter(pk=saga.pk, status=SagaStatus.REJECTED, compensated_at=None).update(
        compensated_at=timezone.now()
    )
    if marked:
        event_record(saga=saga, event_type="CompensationCompleted", service=Service.CHECKOUT)
        settled_announce(saga.pk, status=SagaStatus.REJECTED, reason=saga.reason)
    return bool(marked)


def _compare_and_set(saga: Saga, *, status: SagaStatus, reason: str, now: datetime) -> bool:
    """The decision: only the transition that still finds (PENDING, version) commits."""
    guard, params = (" AND deadline_at > %s", [now]) if status == SagaStatus.APPROVED else ("", [])
    return bool(
        sql_run(
            f"UPDATE {table(Saga)} SET status = %s, reason = %s, version = version + 1, decided_at = %s"
            f" WHERE id = %s AND status = %s AND version = %s{guard}",
            [status, reason, now, saga.pk, SagaStatus.PENDING, saga.version, *params],
        )
    )


def _steps_applied(saga_id: int) -> int:
    """How many of the attempt's steps hold an APPLIED record, in one statement (a UNION ALL)."""
    union = " UNION ALL ".join(
        f"SELECT 1 FROM {table(step.record)} WHERE saga_id = %s AND status = %s" for step in STEPS
    )
    (count,) = sql_one(f"SELECT count(*) FROM ({union}) AS applied", [saga_id, ParticipantStatus.APPLIED] * len(STEPS))
    return count


def saga_approve(*, saga_id: int) -> str:
    """Approve an attempt whose every step applied, if it is still PENDING and before its deadline."""
    with transition_lock(saga_id), transaction.atomic():
        saga = _load(saga_id)
        if saga.status != SagaStatus.PENDING:
            return f"SKIPPED (saga {saga.status})"
        now = timezone.now()
        if _expired(saga, now):
            return _reject(saga, reason=RejectionReason.DEADLINE, now=now, fired_by=Service.ORDERS)
        if _steps_applied(saga_id) < len(STEPS):
            return "SKIPPED (steps not applied)"
        faults.inside_transition(saga)
        if not _compare_and_set(saga, status=SagaStatus.APPROVED, reason="", now=now):
            return "LOST"
        event_record(
            saga=saga,
            event_type="OrderPlaced",
            service=Service.ORDERS,
            along=[order_set_outcome(order_id=saga.order_id, generation=saga.generation, status=OrderStatus.APPROVED)],
            id=saga.order_id,
            holderId=saga.order.holder_id,
        )
        settled_announce(saga_id, status=SagaStatus.APPROVED)
        return "APPROVED"


def saga_reject(
    *,
    saga_id: int,
    reason: str,
    fired_by: str | None = None,
    failed_step: str | None = None,
    by: str | None = None,
) -> str:
    """Reject an attempt if it is still PENDING; its compensations are sent after commit."""
    with transition_lock(saga_id), transaction.atomic():
        saga = _load(saga_id)
        if saga.status != SagaStatus.PENDING:
            return f"SKIPPED (saga {saga.status})"
        return _reject(saga, reason=reason, now=timezone.now(), fired_by=fired_by, failed_step=failed_step, by=by)


def saga_force_reject(*, saga_id: int, by: str) -> bool:
    """An operator's rejection of a PENDING attempt (ADR 0007); a second click finds nothing to do (False).

    It is the deadline's transition with another reason: any step may be running, so every
    step is compensated, and those that never ran get their tombstones.
    """
    return saga_reject(saga_id=saga_id, reason=RejectionReason.OPERATOR, by=by) == "REJECTED"


def _reject(
    saga: Saga,
    *,
    reason: str,
    now: datetime,
    fired_by: str | None,
    failed_step: str | None = None,
    by: str | None = None,
) -> str:
    faults.inside_transition(saga)
    if not _compare_and_set(saga, status=SagaStatus.REJECTED, reason=reason, now=now):
        return "LOST"
    saga.status, saga.reason = SagaStatus.REJECTED, reason
    if reason == RejectionReason.DEADLINE:
        event_record(
            saga=saga,
            event_type="DeadlineReached",
            service=Service.CHECKOUT,
            deadline=saga.deadline_at.isoformat(),
            latenessMs=round((now - saga.deadline_at).total_seconds() * 1000),
            firedBy=fired_by,
        )
    order = saga.order
    event_record(
        saga=saga,
        event_type="OrderRejected",
        service=Service.ORDERS,
        along=[
            order_set_outcome(
                order_id=saga.order_id, generation=saga.generation, status=OrderStatus.REJECTED, reason=reason
            )
        ],
        id=order.pk,
        holderId=order.holder_id,
        reason=reason,
        by=by,
    )
    to_undo = steps_that_may_have_applied(failed_step)
    if to_undo:
        _send_compensations(saga, to_undo)
    else:  # the first step failed: nothing applied, nothing to undo
        _compensation_finished(saga)
    return "REJECTED"


def saga_deadline(*, saga_id: int, fired_by: str = "countdown") -> str | datetime:
    """Reject an attempt whose deadline has passed; return the deadline if it fired early.

    Nearly every countdown finds its attempt decided: that costs one narrow read.
    """
    status, deadline_at = sql_get(
        Saga, f"SELECT status, deadline_at FROM {table(Saga)} WHERE id = %s", [saga_id], key=saga_id
    )
    if status != SagaStatus.PENDING:
        return f"SKIPPED (saga {status})"
    if timezone.now() < deadline_at:
        return deadline_at
    return saga_reject(saga_id=saga_id, reason=RejectionReason.DEADLINE, fired_by=fired_by)


def saga_sweep_overdue(*, limit: int = 500) -> int | None:
    """The backstops (beat, every second): reject what outlived its deadline, re-drive stalled compensations.

    Rejects PENDING attempts past deadline + grace whose countdown never came, and sends
    again the compensations that are due (ADR 0005, 0009), at most `limit` of each.
    Never two sweeps at once: returns None at once if another sweep holds the lock, else
    how many attempts it acted on.
    """
    with sweep_lock("checkout.sweep_overdue") as mine:
        if not mine:
            return None
        return _reject_overdue(limit=limit) + _redrive_due_compensations(limit=limit)


def _reject_overdue(*, limit: int) -> int:
    cutoff = timezone.now() - timedelta(seconds=settings.SAGA_SWEEP_GRACE_SECONDS)
    overdue = list(
        Saga.objects.filter(status=SagaStatus.PENDING, deadline_at__lt=cutoff)
        .order_by("deadline_at")
        .values_list("pk", flat=True)[:limit]
    )
    for saga_id in overdue:
        with log_scope(sagaId=saga_id):  # the sweep's own lines concern no one attempt
            saga_deadline(saga_id=saga_id, fired_by="sweeper")
    return len(overdue)


def _redrive_due_compensations(*, limit: int) -> int:
    due = list(_compensations_due(timezone.now()).order_by("decided_at").values_list("pk", flat=True)[:limit])
    for saga_id in due:
        with log_scope(sagaId=saga_id):
            saga_compensation_redrive(saga_id=saga_id)
    return len(due)


def _compensations_due(now: datetime) -> QuerySet[Saga]:
    """Rejected attempts whose compensation must be sent again now (ADR 0009).

    Stalled: a compensation started and has not finished (re-drives + 1) x
    SAGA_COMPENSATION_REDRIVE_SECONDS later. Lost: the compensation awaited was sent
    SAGA_COMPENSATION_LOST_SECONDS ago and never started. One that merely waits in a
    queue (a backlog) is neither, and is left alone.
    """
    every = timedelta(seconds=settings.SAGA_COMPENSATION_REDRIVE_SECONDS)
    lost_after = timedelta(seconds=settings.SAGA_COMPENSATION_LOST_SECONDS)
    return (
        Saga.objects.filter(status=SagaStatus.REJECTED, compensated_at=None, needs_attention=False)
        .alias(
            stalled_at=F("compensation_started_at")
            + ExpressionWrapper((F("compensation_redrives") + 1) * every, DurationField()),
            queued_since=Coalesce("compensation_sent_at", "decided_at"),
        )
        .filter(
            Q(compensation_started_at__isnull=False, stalled_at__lt=now)
            | Q(compensation_started_at=None, queued_since__lt=now - lost_after)
        )
    )


def saga_compensation_redrive(*, saga_id: int) -> str:
    """Send a compensation again if it is due; when it stalled after the last re-drive, flag the attempt instead.

    Only a compensation that ran and did not finish counts toward the flag; a lost one is
    sent again without counting. One that is not due (finished, flagged, queued, or still
    within its time) is left alone: a re-drive is never sent while another waits (ADR 0009).
    """
    with transaction.atomic():
        # The row lock makes the sweeper and a running compensation take turns; PostgreSQL
        # re-checks the due condition on the row it locked.
        saga = _compensations_due(timezone.now()).select_for_update().filter(pk=saga_id).first()
        if saga is None:
            return "SKIPPED"
        log_bind(orderId=saga.order_id)
        if saga.compensation_started_at is None:
            event_record(saga=saga, event_type="CompensationRedriven", service=Service.CHECKOUT, cause="lost")
            _compensate_every_step(saga)
            return "REDRIVEN (lost)"
        if saga.compensation_redrives >= settings.SAGA_COMPENSATION_MAX_REDRIVES:
            Saga.objects.filter(pk=saga_id).update(needs_attention=True)
            event_record(
                saga=saga,
                event_type="CompensationNeedsAttention",
                service=Service.CHECKOUT,
                redrives=saga.compensation_redrives,
            )
            return "NEEDS_ATTENTION"
        Saga.objects.filter(pk=saga_id).update(compensation_redrives=F("compensation_redrives") + 1)
        event_record(
            saga=saga,
            event_type="CompensationRedriven",
            service=Service.CHECKOUT,
            redrive=saga.compensation_redrives + 1,
            cause="stalled",
        )
        _compensate_every_step(saga)
        return "REDRIVEN"


def saga_compensation_retry(*, saga_id: int, by: str) -> bool:
    """An operator's retry of a NEEDS_ATTENTION attempt; a second click finds nothing to do (False)."""
    with transaction.atomic():
        retried = Saga.objects.filter(pk=saga_id, needs_attention=True, compensated_at=None).update(
            needs_attention=False, compensation_redrives=0
        )
        if not retried:
            return False
        saga = _load(saga_id)
        event_record(saga=saga, event_type="CompensationRetried", service=Service.CHECKOUT, by=by)
        _compensate_every_step(saga)
        return True


def _compensate_every_step(saga: Saga) -> None:
    """A compensation sent again covers every step: those that never ran only get tombstones."""
    _send_compensations(saga, STEPS)


def _send_compensations(saga: Saga, steps) -> None:
    Saga.objects.filter(pk=saga.pk).update(compensation_sent_at=timezone.now(), compensation_started_at=None)
    outbox_add(saga=saga, kind=OutboxKind.COMPENSATE, payload={"steps": [step.service for step in steps]})
