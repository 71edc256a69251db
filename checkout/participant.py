"""The contract every saga participant follows (Seata's three rules), in one place.

A participant keeps one record per saga attempt, unique on `saga_id`:

1. Idempotent apply: the first apply creates the record and its effect; a replay
   finds the record and returns it unchanged.
2. Idempotent compensate: the first compensation undoes an APPLIED record and marks
   it COMPENSATED; a replay finds it COMPENSATED and does nothing.
3. Compensate before apply: compensating an attempt with no record inserts a
   CANCELLED tombstone; an apply that arrives later collides with it and is refused.

Both sides insert first and let the unique index arbitrate, so an apply and a
compensation racing on the same attempt serialize inside PostgreSQL: whichever
insert commits first wins, and the other one sees its committed row.
"""

from collections.abc import Callable
from typing import NamedTuple, TypeVar

from django.db import IntegrityError, models, transaction
from django.utils import timezone


class ParticipantStatus(models.TextChoices):
    APPLIED = "APPLIED"
    FAILED = "FAILED"
    COMPENSATED = "COMPENSATED"
    CANCELLED = "CANCELLED", "CANCELLED (tombstone)"


class ParticipantRecord(models.Model):
    saga_id = models.BigIntegerField(unique=True, help_text="The saga attempt this record belongs to.")
    order_id = models.BigIntegerField(db_index=True)
    status = models.CharField(max_length=16, choices=ParticipantStatus)
    reason = models.CharField(max_length=32, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    compensated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True
        ordering = ["id"]


class StepFailed(Exception):
    """A business refusal (short balance, short stock): the attempt is rejected with `reason`."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


R = TypeVar("R", bound=ParticipantRecord)


class Outcome(NamedTuple):
    record: ParticipantRecord
    changed: bool  # False for a replay or a refused apply


def apply_once(
    model: type[R], *, saga_id: int, order_id: int, effect: Callable[[R], None], **fields: object
) -> Outcome:
    """Apply a step once per attempt; a replay returns the first record, a late apply finds the tombstone."""
    with transaction.atomic(savepoint=False):
        try:
            with transaction.atomic():
                record = model.objects.create(
                    saga_id=saga_id, order_id=order_id, status=ParticipantStatus.APPLIED, **fields
                )
        except IntegrityError:
            return Outcome(model.objects.get(saga_id=saga_id), changed=False)
        try:
            with transaction.atomic():
                effect(record)
        except StepFailed as failure:
            record.status = ParticipantStatus.FAILED
            record.reason = failure.reason
        record.save()
        return Outcome(record, changed=True)


def compensate_once(model: type[R], *, saga_id: int, order_id: int, undo: Callable[[R], None]) -> Outcome:
    """Undo an applied step once; with nothing applied yet, leave a tombstone that refuses a late apply."""
    with transaction.atomic(savepoint=False):
        try:
            with transaction.atomic():
                record = model.objects.create(
                    saga_id=saga_id,
                    order_id=order_id,
                    status=ParticipantStatus.CANCELLED,
                    compensated_at=timezone.now(),
                )
            return Outcome(record, changed=True)
        except IntegrityError:
            pass
        record = model.objects.select_for_update().get(saga_id=saga_id)
        if record.status != ParticipantStatus.APPLIED:
            return Outcome(record, changed=False)
        undo(record)
        record.status = ParticipantStatus.COMPENSATED
        record.compensated_at = timezone.now()
        record.save()
        return Outcome(record, changed=True)
