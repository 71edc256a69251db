from django.db import models
from django.db.models import Q


class OrderStatus(models.TextChoices):
    OPEN = "OPEN", "OPEN (not checked out yet)"
    PENDING = "PENDING"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"


class RejectionReason(models.TextChoices):
    POINT_LIMIT = "POINT_LIMIT"
    OUT_OF_STOCK = "OUT_OF_STOCK"
    UNKNOWN_ACCOUNT = "UNKNOWN_ACCOUNT"
    UNKNOWN_ITEM = "UNKNOWN_ITEM"
    DEADLINE = "DEADLINE"
    OPERATOR = "OPERATOR", "OPERATOR (rejected by staff)"


def reason_only_when_rejected(field: str, *, name: str) -> models.CheckConstraint:
    """A rejection always says why, and nothing else carries a reason (orders and their attempts)."""
    return models.CheckConstraint(
        condition=Q(status="REJECTED", **{f"{field}__gt": ""}) | (~Q(status="REJECTED") & Q(**{field: ""})),
        name=name,
    )


class Order(models.Model):
    """An order of currency lines (items); its status mirrors its latest checkout attempt."""

    holder_id = models.CharField(max_length=64, db_index=True)
    status = models.CharField(max_length=16, choices=OrderStatus, default=OrderStatus.OPEN)
    rejection_reason = models.CharField(max_length=32, choices=RejectionReason, blank=True, default="")
    total_cost = models.BigIntegerField(default=0, help_text="Points the order costs: sum of amount x unit price.")
    deadline_at = models.DateTimeField(null=True, blank=True, help_text="Deadline of the current attempt.")
    reset_at = models.DateTimeField(
        null=True, blank=True, help_text="When a batch_init overwrote the order; earlier attempts are history."
    )
    generation = models.PositiveIntegerField(
        default=0, help_text="How often a batch_init overwrote the order: it is paid at most once per generation."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["status", "rejection_reason"])]
        constraints = [
            models.CheckConstraint(condition=Q(total_cost__gte=0), name="order_cost_not_negative"),
            reason_only_when_rejected("rejection_reason", name="order_reason_iff_rejected"),
        ]

    def __str__(self) -> str:
        return f"Order {self.pk} ({self.holder_id}, {self.status_text})"

    @property
    def status_text(self) -> str:
        """`REJECTED DUE TO POINT LIMIT`, as the seed prints it."""
        if self.status == OrderStatus.REJECTED:
            return f"REJECTED DUE TO {self.rejection_reason.replace('_', ' ')}"
        return self.status


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    # No database constraint: a benchmark's batch_init may create orders before their items;
    # such an order is rejected at checkout with UNKNOWN_ITEM.
    currency = models.ForeignKey(
        "exchanges.Currency", on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    amount = models.BigIntegerField()
    unit_price = models.BigIntegerField(help_text="The currency's rate when the order was placed.")

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="order_line_amount_positive"),
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="order_line_price_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.amount} x currency {self.currency_id}"
