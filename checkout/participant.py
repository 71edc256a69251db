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
insert commits first wins, and the other one sees its committed row. The insert is
`ON CONFLICT (saga_id) DO NOTHING RETURNING id`: the loser learns it lost without an
error, so no savepoint is needed around it. The statements every attempt runs are
written out (config.sql, docs/adr/0008-cost-per-saga.md).
"""

from collections.abc import Callable
from typing import NamedTuple, TypeVar

from django.db import connection, models, transaction
from django.utils import timezone

from config.sql import column, sql_insert, sql_run, table


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


def insert_once(record: ParticipantRecord) -> bool:
    """Insert the attempt's record unless one exists: True if this call inserted it.

    `INSERT ... ON CONFLICT (saga_id) DO NOTHING RETURNING id`: a concurrent insert of the
    same attempt waits for the first to commit or roll back, then inserts nothing.
    """
    return sql_insert(record, unless_conflict_on="saga_id")


def _record_update(record: ParticipantRecord, filled: dict) -> None:
    """Write the fields an effect or an undo filled in, on the record and its row (one UPDATE)."""
    model = type(record)
    fields = [model._meta.get_field(name) for name in filled]
    for name, value in filled.items():
        setattr(record, name, value)
    sql_run(
        f"UPDATE {table(model)} SET {', '.join(f'{column(model, field.name)} = %s' for field in fields)}"
        f" WHERE {column(model, model._meta.pk.name)} = %s",
        [*(field.get_db_prep_save(filled[field.name], connection) for field in fields), record.pk],
    )


def apply_once(
    model: type[R],
    *,
    saga_id: int,
    order_id: int,
    effect: Callable[[R], dict | None],
    refuses_before_writing: bool = False,
    **fields: object,
) -> Outcome:
    """Apply a step once per attempt; a replay returns the first record, a late apply finds the tombstone.

    `effect` makes the change; it returns the record's fields it filled in (or None), and
    raises StepFailed to refuse, in which case nothing it wrote stays: it runs in a
    savepoint, unless it says it `refuses_before_writing` (then there is nothing to undo).
    """
    with transaction.atomic(savepoint=False):
        record = model(saga_id=saga_id, order_id=order_id, status=ParticipantStatus.APPLIED, **fields)
        if not insert_once(record):
            return Outcome(model.objects.get(saga_id=saga_id), changed=False)
        try:
            if refuses_before_writing:
                filled = effect(record) or {}
            else:
                with transaction.atomic():  # the one savepoint: a refused effect leaves nothing half-done
                    filled = effect(record) or {}
        except StepFailed as failure:
            filled = {"status": ParticipantStatus.FAILED, "reason": failure.reason}
        if filled:
            _record_update(record, filled)
        return Outcome(record, changed=True)


def compensate_once(model: type[R], *, saga_id: int, order_id: int, undo: Callable[[R], dict | None]) -> Outcome:
    """Undo an applied step once; with nothing applied yet, leave a tombstone that refuses a late apply."""
    with transaction.atomic(savepoint=False):
        tombstone = model(
            saga_id=saga_id, order_id=order_id, status=ParticipantStatus.CANCELLED, compensated_at=timezone.now()
        )
        if insert_once(tombstone):
            return Outcome(tombstone, changed=True)
        record = model.objects.select_for_update().get(saga_id=saga_id)
        if record.status != ParticipantStatus.APPLIED:
            return Outcome(record, changed=False)
        _record_update(
            record, {**(undo(record) or {}), "status": ParticipantStatus.COMPENSATED, "compensated_at": timezone.now()}
        )
        return Outcome(record, changed=True)
