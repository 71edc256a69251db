import statistics
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Avg, Count, F, QuerySet
from django.utils import timezone
from redis.exceptions import RedisError

from .admission import AdmissionState, admission_state
from .models import MyPage, MyPageExchange, MyPageOrder, OutboxMessage, Saga, SagaEvent, SagaStatus
from .mypage import mypage_users
from .saga import STEPS

RECENT_EVENTS = 1000
MYPAGE_KEEP = 100  # orders and exchanges a user's page shows, the newest


def events_of_order(order_id: int) -> QuerySet[SagaEvent]:
    """One order's events in the order they happened."""
    return SagaEvent.objects.filter(order_id=order_id).order_by("timestamp", "id")


def events_recent(events: QuerySet[SagaEvent], limit: int = RECENT_EVENTS) -> list[SagaEvent]:
    """The newest `limit` of `events`, oldest first."""
    newest = events.order_by("-timestamp", "-id")[:limit]
    return list(reversed(newest))


def mypage_get(user_id: str) -> dict | None:
    """A user's page: balance, the newest orders and exchanges (newest first); None if the user has none."""
    balance = MyPage.objects.filter(pk=user_id).values_list("balance", flat=True).first()
    order_rows = MyPageOrder.objects.filter(user_id=user_id).order_by("-order_id")
    orders = [
        {"orderId": order, "status": status, "reason": reason or None, "cost": cost, "lines": lines, "attempt": attempt}
        for order, status, reason, cost, lines, attempt in order_rows.values_list(
            "order_id", "status", "reason", "cost", "lines", "attempt"
        )[:MYPAGE_KEEP]
    ]
    exchange_rows = MyPageExchange.objects.filter(user_id=user_id).order_by("-saga_id")
    exchanges = [
        {"orderId": order, "sagaId": saga, "status": status, "point": point, "lines": lines}
        for order, saga, status, point, lines in exchange_rows.values_list(
            "order_id", "saga_id", "status", "point", "lines"
        )[:MYPAGE_KEEP]
    ]
    if balance is None and not orders and not exchanges:
        return None
    return {"userId": user_id, "balance": balance or 0, "orders": orders, "exchanges": exchanges}


def mypage_all() -> dict[str, dict]:
    """Every user's page, by user id (for the rebuild's checks)."""
    return {user_id: mypage_get(user_id) for user_id in sorted(mypage_users())}


def deadlines() -> QuerySet[Saga]:
    return Saga.objects.order_by("id")


def deadline_lateness(*, since: datetime | None = None, saga_ids: list[int] | None = None) -> dict:
    """How late the deadline rejections were decided: count, by whom, median / p95 / max in ms."""
    events = SagaEvent.objects.filter(event_type="DeadlineReached")
    if since:
        events = events.filter(timestamp__gte=since)
    if saga_ids is not None:
        events = events.filter(saga_id__in=saga_ids)
    payloads = list(events.values_list("payload", flat=True))
    lateness = sorted(p["latenessMs"] for p in payloads)
    fired_by = dict(Counter(p.get("firedBy", "?") for p in payloads))
    if not lateness:
        return {"count": 0, "firedBy": fired_by}
    return {
        "count": len(lateness),
        "firedBy": fired_by,
        "medianMs": statistics.median(lateness),
        "p95Ms": lateness[min(len(lateness) - 1, round(0.95 * (len(lateness) - 1)))],
        "maxMs": lateness[-1],
    }


IN_FLIGHT_SHOWN = 50
LATEST_SHOWN = 10
STUCK_AFTER = timedelta(seconds=10)  # beyond the sweeper's and the relay's intervals: something is not running


@dataclass
class InFlight:
    saga: Saga
    seconds_left: float  # negative once past the deadline
    steps_applied: list[str]


@dataclass
class Dashboard:
    now: datetime
    in_flight: list[InFlight]
    in_flight_count: int
    outcomes: dict[str, int]  # the last hour's decisions: APPROVED / REJECTED
    reasons: list[tuple[str, int]]  # the last hour's rejections by reason, most frequent first
    mean_decision_ms: int | None
    needs_attention: list[Saga]
    latest: list[Saga]  # the latest decisions, newest first
    compensations_unfinished: int
    overdue: int
    outbox_stuck: int
    admission: AdmissionState | None = None  # None: Redis did not answer

    @property
    def decided(self) -> int:
        return sum(self.outcomes.values())

    @property
    def attention_count(self) -> int:
        return len(self.needs_attention) + self.compensations_unfinished + self.overdue + self.outbox_stuck


def saga_dashboard(*, now: datetime | None = None, window: timedelta = timedelta(hours=1)) -> Dashboard:
    """What an operator looks at first: attempts in flight, the last hour's outcomes, what needs a person, and
    what admission control lets in and turns away (ADR 0010)."""
    now = now or timezone.now()
    pending = Saga.objects.filter(status=SagaStatus.PENDING)
    shown = list(pending.select_related("order").order_by("deadline_at")[:IN_FLIGHT_SHOWN])
    applied: dict[int, list[str]] = {saga.pk: [] for saga in shown}
    for step in STEPS:
        for saga_id in step.record.objects.filter(saga_id__in=applied, status="APPLIED").values_list(
            "saga_id", flat=True
        ):
            applied[saga_id].append(step.service)
    decided = Saga.objects.filter(decided_at__gte=now - window)
    outcomes = dict(decided.values_list("status").annotate(n=Count("id")).order_by())
    reasons = list(
        decided.filter(status=SagaStatus.REJECTED).values_list("reason").annotate(n=Count("id")).order_by("-n")
    )
    mean = decided.aggregate(mean=Avg(F("decided_at") - F("created_at")))["mean"]
    unfinished = Saga.objects.filter(
        status=SagaStatus.REJECTED, compensated_at=None, needs_attention=False, decided_at__lt=now - STUCK_AFTER
    )
    grace = timedelta(seconds=settings.SAGA_SWEEP_GRACE_SECONDS)
    return Dashboard(
        now=now,
        in_flight=[InFlight(saga, (saga.deadline_at - now).total_seconds(), applied[saga.pk]) for saga in shown],
        in_flight_count=pending.count(),
        outcomes={status: outcomes.get(status, 0) for status in (SagaStatus.APPROVED, SagaStatus.REJECTED)},
        reasons=reasons,
        mean_decision_ms=round(mean.total_seconds() * 1000) if mean is not None else None,
        needs_attention=list(Saga.objects.filter(needs_attention=True).select_related("order").order_by("decided_at")),
        latest=list(
            Saga.objects.exclude(decided_at=None).select_related("order").order_by("-decided_at")[:LATEST_SHOWN]
        ),
        compensations_unfinished=unfinished.count(),
        overdue=pending.filter(deadline_at__lt=now - grace - STUCK_AFTER).count(),
        outbox_stuck=OutboxMessage.objects.filter(published_at=None, created_at__lt=now - STUCK_AFTER).count(),
        admission=_admission(),
    )


def _admission() -> AdmissionState | None:
    try:
        return admission_state()
    except RedisError:
        return None
