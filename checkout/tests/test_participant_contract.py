"""Seata's three rules, proven once for every saga participant.

applied twice = once; compensated twice = once; compensated first = tombstone;
applied after compensation = refused; and an apply racing its compensation ends
with exactly one net effect of zero.
"""

import threading
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.db import connection

from checkout.participant import Outcome, ParticipantStatus
from exchanges.models import Currency, Exchange
from exchanges.services import currency_upsert, exchange_apply, exchange_compensate
from points.models import EntryKind, PointAccount, PointEntry, PointUse
from points.services import points_deposit, points_use, points_use_compensate

START = 1000
COST = 100


@dataclass
class Participant:
    setup: Callable[[], None]
    apply: Callable[[int], Outcome]
    compensate: Callable[[int], Outcome]
    holding: Callable[[], int]  # the resource the step takes: stock or balance
    records: type


def exchanges_participant() -> Participant:
    return Participant(
        setup=lambda: currency_upsert(currency_id=7, code="XTS", rate=1, stock=START),
        apply=lambda saga_id: exchange_apply(
            saga_id=saga_id, order_id=saga_id, holder_id="u", lines=[(7, COST)], cost=COST
        ),
        compensate=lambda saga_id: exchange_compensate(saga_id=saga_id, order_id=saga_id),
        holding=lambda: Currency.objects.get(pk=7).stock,
        records=Exchange,
    )


def points_participant() -> Participant:
    return Participant(
        setup=lambda: points_deposit(user_id="u", amount=START),
        apply=lambda saga_id: points_use(saga_id=saga_id, order_id=saga_id, user_id="u", amount=COST),
        compensate=lambda saga_id: points_use_compensate(saga_id=saga_id, order_id=saga_id),
        holding=lambda: PointAccount.objects.get(pk="u").balance,
        records=PointUse,
    )


PARTICIPANTS = [pytest.param(exchanges_participant, id="exchanges"), pytest.param(points_participant, id="points")]


@pytest.fixture(params=PARTICIPANTS)
def participant(request, db) -> Participant:
    participant = request.param()
    participant.setup()
    return participant


def test_applied_twice_takes_once(participant):
    # given
    first = participant.apply(1)
    # when
    second = participant.apply(1)
    # then
    assert (first.changed, first.record.status) == (True, ParticipantStatus.APPLIED)
    assert (second.changed, second.record.pk) == (False, first.record.pk)
    assert participant.holding() == START - COST
    assert participant.records.objects.count() == 1


def test_compensated_twice_gives_back_once(participant):
    # given
    participant.apply(1)
    first = participant.compensate(1)
    # when
    second = participant.compensate(1)
    # then
    assert (first.changed, first.record.status) == (True, ParticipantStatus.COMPENSATED)
    assert (second.changed, second.record.status) == (False, ParticipantStatus.COMPENSATED)
    assert participant.holding() == START


def test_compensated_first_leaves_a_tombstone(participant):
    # when
    outcome = participant.compensate(1)
    # then
    assert (outcome.changed, outcome.record.status) == (True, ParticipantStatus.CANCELLED)
    assert participant.holding() == START


def test_applied_after_compensation_is_refused(participant):
    # given
    participant.compensate(1)
    # when
    late = participant.apply(1)
    # then
    assert (late.changed, late.record.status) == (False, ParticipantStatus.CANCELLED)
    assert participant.holding() == START
    assert participant.records.objects.count() == 1


def test_attempts_are_independent(participant):
    # given attempt 1 compensated first (tombstone)
    participant.compensate(1)
    # when attempt 2 applies
    outcome = participant.apply(2)
    # then the tombstone of attempt 1 does not block attempt 2
    assert (outcome.changed, outcome.record.status) == (True, ParticipantStatus.APPLIED)
    assert participant.holding() == START - COST


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("make_participant", PARTICIPANTS)
def test_apply_racing_its_compensation_nets_zero(make_participant):
    """Real threads on PostgreSQL: the unique index decides which of the two inserts first."""
    # given
    participant = make_participant()
    participant.setup()
    outcomes = {"tombstone": 0, "undone": 0}
    for saga_id in range(1, 31):
        barrier = threading.Barrier(2)
        results: dict[str, Outcome] = {}

        def run(name: str, call: Callable[[int], Outcome], saga_id: int = saga_id, barrier=barrier, results=results):
            try:
                barrier.wait()
                results[name] = call(saga_id)
            finally:
                connection.close()

        threads = [
            threading.Thread(target=run, args=("apply", participant.apply)),
            threading.Thread(target=run, args=("compensate", participant.compensate)),
        ]
        # when
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        # then either the tombstone came first and the apply was refused, or the apply was undone
        final = participant.records.objects.get(saga_id=saga_id).status
        assert final in (ParticipantStatus.CANCELLED, ParticipantStatus.COMPENSATED)
        assert participant.holding() == START
        if final == ParticipantStatus.CANCELLED:
            assert results["apply"].changed is False
            outcomes["tombstone"] += 1
        else:
            assert results["apply"].changed is True and results["compensate"].changed is True
            outcomes["undone"] += 1
    print(f"\n{participant.records.__name__}: apply vs compensate over 30 races: {outcomes}")


def test_a_failed_apply_replays_its_failure_and_compensates_nothing(db):
    # given an account that cannot pay
    points_deposit(user_id="poor", amount=COST - 1)
    failed = points_use(saga_id=1, order_id=1, user_id="poor", amount=COST)
    # when
    replay = points_use(saga_id=1, order_id=1, user_id="poor", amount=COST)
    compensation = points_use_compensate(saga_id=1, order_id=1)
    # then
    assert (failed.record.status, failed.record.reason) == (ParticipantStatus.FAILED, "POINT_LIMIT")
    assert (replay.changed, replay.record.status) == (False, ParticipantStatus.FAILED)
    assert (compensation.changed, compensation.record.status) == (False, ParticipantStatus.FAILED)
    assert PointAccount.objects.get(pk="poor").balance == COST - 1
    assert list(PointEntry.objects.values_list("kind", flat=True)) == [EntryKind.DEPOSIT]


def test_spending_exactly_the_whole_balance_succeeds(db):
    points_deposit(user_id="exact", amount=COST)
    outcome = points_use(saga_id=1, order_id=1, user_id="exact", amount=COST)
    assert (outcome.record.status, outcome.record.balance_after) == (ParticipantStatus.APPLIED, 0)


def test_an_unknown_account_fails_the_points_step(db):
    outcome = points_use(saga_id=1, order_id=1, user_id="nobody", amount=COST)
    assert (outcome.record.status, outcome.record.reason) == (ParticipantStatus.FAILED, "UNKNOWN_ACCOUNT")
    assert not PointAccount.objects.exists()


def test_a_multi_line_exchange_is_all_or_nothing(db):
    # given currency 7 has enough, currency 8 does not
    currency_upsert(currency_id=7, code="XTS", rate=1, stock=START)
    currency_upsert(currency_id=8, code="XXX", rate=1, stock=5)
    # when
    outcome = exchange_apply(saga_id=1, order_id=1, holder_id="u", lines=[(7, 10), (8, 6)], cost=16)
    # then nothing was taken from currency 7 either
    assert (outcome.record.status, outcome.record.reason) == (ParticipantStatus.FAILED, "OUT_OF_STOCK")
    assert dict(Currency.objects.values_list("pk", "stock")) == {7: START, 8: 5}
    assert not outcome.record.lines.exists()
