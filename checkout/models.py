from django.db import models
from django.db.models import Q

from orders.models import RejectionReason, reason_only_when_rejected


class SagaStatus(models.TextChoices):
    PENDING = "PENDING"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"


class Saga(models.Model):
    """One checkout attempt of an order: what it takes and charges, its deadline, outcome and fencing version."""

    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="sagas")
    attempt = models.PositiveIntegerField(default=1)
    generation = models.PositiveIntegerField(default=0, help_text="The order's generation when the attempt started.")
    status = models.CharField(max_length=16, choices=SagaStatus, default=SagaStatus.PENDING)
    reason = models.CharField(max_length=32, choices=RejectionReason, blank=True, default="")
    version = models.PositiveIntegerField(default=0, help_text="Fencing token: every transition bumps it.")
    deadline_at = models.DateTimeField()
    lines = models.JSONField(default=list, help_text="[[currency id, amount], ...] when the attempt started.")
    cost = models.BigIntegerField(default=0, help_text="Points the attempt charges.")
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    compensated_at = models.DateTimeField(null=True, blank=True, help_text="When every compensation had run.")
    compensation_sent_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the compensation message now awaited was sent: by the rejection, a re-drive, a retry, "
        "or the compensation before it in the chain.",
    )
    compensation_started_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the compensation now running started; empty while the next one waits in its queue.",
    )
    compensation_redrives = models.PositiveIntegerField(
        default=0, help_text="How often the sweeper sent the compensations again after one ran and did not finish."
    )
    needs_attention = models.BooleanField(
        default=False, help_text="Compensation did not finish after every re-drive: an operator must look."
    )

    class Meta:
        ordering = ["id"]
        verbose_name = "saga attempt"
        indexes = [
            models.Index(fields=["status", "deadline_at"]),
            models.Index(  # the sweeper's look for unfinished compensations, every second
                fields=["decided_at"],
                condition=Q(status=SagaStatus.REJECTED, compensated_at=None),
                name="saga_compensation_unfinished",
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["order", "attempt"], name="saga_attempt_once_per_order"),
            # per generation: an order that a batch_init overwrote is a new order under the old id (ADR 0004)
            models.UniqueConstraint(
                fields=["order", "generation"],
                condition=Q(status=SagaStatus.PENDING),
                name="saga_one_pending_attempt_per_order",
            ),
            models.UniqueConstraint(
                fields=["order", "generation"],
                condition=Q(status=SagaStatus.APPROVED),
                name="saga_order_paid_at_most_once",
            ),
            reason_only_when_rejected("reason", name="saga_reason_iff_rejected"),
        ]

    def __str__(self) -> str:
        return f"Saga {self.pk} (order {self.order_id} attempt {self.attempt}, {self.status})"


class Service(models.TextChoices):
    ORDERS = "orders"
    EXCHANGES = "exchanges"
    POINTS = "points"
    CHECKOUT = "checkout"


class SagaEvent(models.Model):
    """The durable event log: append-only, one row per thing that happened to an order."""

    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="events")
    saga = models.ForeignKey(Saga, on_delete=models.PROTECT, null=True, blank=True, related_name="events")
    event_type = models.CharField(max_length=40)
    service = models.CharField(max_length=16, choices=Service)
    timestamp = models.DateTimeField()
    payload = models.JSONField(default=dict)

    class Meta:
        ordering = ["timestamp", "id"]
        indexes = [
            models.Index(fields=["order", "timestamp", "id"]),
            models.Index(fields=["event_type", "timestamp"]),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} (order {self.order_id})"

    def as_message(self) -> dict:
        """The event as the seed's Kafka consumer prints it."""
        return {
            "eventType": self.event_type,
            "timestamp": int(self.timestamp.timestamp() * 1000),
            "orderId": self.order_id,
            "sagaId": self.saga_id,
            "service": self.service,
            **self.payload,
        }


class OutboxKind(models.TextChoices):
    START = "START", "START (step chain and deadline countdown)"
    COMPENSATE = "COMPENSATE", "COMPENSATE (compensation chain)"


class OutboxMessage(models.Model):
    """What the saga must send, written in the transaction that decided it (ADR 0005)."""

    saga = models.ForeignKey(Saga, on_delete=models.PROTECT, related_name="outbox")
    kind = models.CharField(max_length=16, choices=OutboxKind)
    payload = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    published_at = models.DateTimeField(null=True, blank=True)
    publish_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["created_at"], condition=Q(published_at=None), name="outbox_unpublished"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} for saga {self.saga_id}"


class IdempotentRequest(models.Model):
    """A request made with an Idempotency-Key: its first response, replayed to every repeat (ADR 0005)."""

    key = models.CharField(max_length=300, help_text="Whose (a service key, a user) and the key they sent.")
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=300)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of the request body.")
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["key", "method", "path"], name="idempotency_key_once")]

    def __str__(self) -> str:
        return f"{self.method} {self.path} [{self.key}]"


class MyPage(models.Model):
    """The read model of seed 001's "my page": a user's balance; their orders and exchanges are rows of their own.

    Written only by checkout.mypage, in the transaction of the event or ledger entry it
    folds in, one statement each; read by checkout.selectors.mypage_get.
    `manage.py mypage_rebuild` folds the logs again.
    """

    user_id = models.CharField(max_length=64, primary_key=True)
    balance = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "my page"

    def __str__(self) -> str:
        return f"My page of {self.user_id}"


class MyPageOrder(models.Model):
    """An order as its holder's page shows it (the page shows the newest 100)."""

    user_id = models.CharField(max_length=64)
    order_id = models.BigIntegerField()
    status = models.CharField(max_length=16)
    reason = models.CharField(max_length=32, blank=True, default="", help_text="Shown as null when empty.")
    cost = models.BigIntegerField(default=0)
    lines = models.JSONField(default=list)
    attempt = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["user_id", "-order_id"]
        constraints = [models.UniqueConstraint(fields=["user_id", "order_id"], name="mypage_order_once")]

    def __str__(self) -> str:
        return f"Order {self.order_id} on the page of {self.user_id}"


class MyPageExchange(models.Model):
    """An exchange (one attempt's) as its holder's page shows it (the page shows the newest 100)."""

    user_id = models.CharField(max_length=64)
    saga_id = models.BigIntegerField()
    order_id = models.BigIntegerField()
    status = models.CharField(max_length=16)
    point = models.BigIntegerField(null=True, blank=True)
    lines = models.JSONField(default=list)

    class Meta:
        ordering = ["user_id", "-saga_id"]
        constraints = [models.UniqueConstraint(fields=["user_id", "saga_id"], name="mypage_exchange_once")]

    def __str__(self) -> str:
        return f"Exchange of attempt {self.saga_id} on the page of {self.user_id}"
