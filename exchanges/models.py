from django.db import models
from django.db.models import Q

from checkout.participant import ParticipantRecord


class Currency(models.Model):
    """A currency the exchange holds: `rate` points per unit, `stock` units on hand."""

    id = models.AutoField(primary_key=True)
    code = models.CharField(max_length=32, blank=True, default="")
    rate = models.BigIntegerField(help_text="Points per unit (an item's price).")
    stock = models.BigIntegerField(default=0, help_text="Units the exchange holds.")

    class Meta:
        ordering = ["id"]
        verbose_name_plural = "currencies"
        constraints = [
            models.CheckConstraint(condition=Q(rate__gte=0), name="currency_rate_not_negative"),
            models.CheckConstraint(condition=Q(stock__gte=0), name="currency_stock_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.id} {self.code}".strip()


class StockKind(models.TextChoices):
    SET = "SET", "SET (created or overwritten)"
    ADD = "ADD"
    SUBTRACT = "SUBTRACT"


class StockEntry(models.Model):
    """Append-only record of stock moved outside the saga; the saga's moves are its exchanges."""

    currency = models.ForeignKey(Currency, on_delete=models.PROTECT, related_name="entries")
    kind = models.CharField(max_length=16, choices=StockKind)
    amount = models.BigIntegerField(help_text="Signed change of stock.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        verbose_name_plural = "stock entries"

    def __str__(self) -> str:
        return f"{self.kind} {self.amount:+} (currency {self.currency_id})"


class Exchange(ParticipantRecord):
    """The exchange step of one saga attempt: units taken out of stock, or its tombstone."""

    holder_id = models.CharField(max_length=64, blank=True, default="")
    cost = models.BigIntegerField(default=0, help_text="Points the exchanged units are worth.")

    class Meta(ParticipantRecord.Meta):
        pass

    def __str__(self) -> str:
        return f"Exchange for order {self.order_id} (saga {self.saga_id}, {self.status})"


class ExchangeLine(models.Model):
    exchange = models.ForeignKey(Exchange, on_delete=models.CASCADE, related_name="lines")
    currency = models.ForeignKey(Currency, on_delete=models.PROTECT, related_name="+")
    amount = models.BigIntegerField()

    class Meta:
        ordering = ["currency_id"]
        constraints = [
            models.UniqueConstraint(fields=["exchange", "currency"], name="exchange_line_once_per_currency"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="exchange_line_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.amount} x currency {self.currency_id}"
