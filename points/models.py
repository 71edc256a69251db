from django.db import models
from django.db.models import Q

from checkout.participant import ParticipantRecord


class PointAccount(models.Model):
    user_id = models.CharField(max_length=64, primary_key=True)
    balance = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["user_id"]
        constraints = [models.CheckConstraint(condition=Q(balance__gte=0), name="point_balance_not_negative")]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.balance}"


class PointUse(ParticipantRecord):
    """The points step of one saga attempt (a "transaction"): a debit, a failure, or a tombstone."""

    user_id = models.CharField(max_length=64, blank=True, default="")
    amount = models.BigIntegerField(default=0)
    balance_after = models.BigIntegerField(null=True, blank=True)

    class Meta(ParticipantRecord.Meta):
        pass

    def __str__(self) -> str:
        return f"Point use for order {self.order_id} (saga {self.saga_id}, {self.status})"


class EntryKind(models.TextChoices):
    DEPOSIT = "DEPOSIT"
    USE = "USE", "USE (a saga's points step)"
    REFUND = "REFUND", "REFUND (its compensation)"
    PAYMENT = "PAYMENT", "PAYMENT (paid directly)"
    SET = "SET", "SET (balance overwritten)"


class PointEntry(models.Model):
    """Append-only ledger: an account's balance is the sum of its entries."""

    account = models.ForeignKey(PointAccount, on_delete=models.PROTECT, related_name="entries")
    kind = models.CharField(max_length=16, choices=EntryKind)
    amount = models.BigIntegerField(help_text="Signed: deposits and refunds add, uses and payments subtract.")
    saga_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        verbose_name_plural = "point entries"
        constraints = [
            # A saga attempt debits and refunds an account at most once each.
            models.UniqueConstraint(
                fields=["saga_id", "kind"], condition=Q(saga_id__isnull=False), name="point_entry_once_per_saga"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount:+} ({self.account_id})"
