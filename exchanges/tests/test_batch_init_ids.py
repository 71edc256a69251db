"""batch_init restarts the id sequence after its explicit ids without giving away an id an insert already took.

Found by the schema fuzzer (config/tests/test_fuzz.py): an item created while a stock batch_init ran got the
sequence's next id; the batch_init, not seeing that row yet, set the sequence back to it; the next item
created collided with it, a 500.
"""

import threading

import pytest
from django.db import connection, transaction

from exchanges.models import Currency
from exchanges.services import item_create, stock_batch_init

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_batch_init_beside_an_uncommitted_item_create_leaves_the_next_id_free():
    # given an item being created: its id taken from the sequence, its transaction still open
    created, release, batch_done = threading.Event(), threading.Event(), threading.Event()
    first = {}

    def create_and_hold() -> None:
        try:
            with transaction.atomic():
                first["id"] = item_create(price=1).pk
                created.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    def batch_init() -> None:
        try:
            stock_batch_init(n=1, stock=5, price=1)  # item 0; the item being created is 1
            batch_done.set()
        finally:
            connection.close()

    creator = threading.Thread(target=create_and_hold)
    creator.start()
    assert created.wait(timeout=30)
    # when a batch_init runs meanwhile (it waits for the create to commit), then another item is created
    batcher = threading.Thread(target=batch_init)
    batcher.start()
    batcher.join(timeout=1)
    release.set()
    creator.join(timeout=30)
    batcher.join(timeout=30)
    assert batch_done.is_set()
    second = item_create(price=1)
    # then every id is its own
    assert second.pk > first["id"]
    assert sorted(Currency.objects.values_list("id", flat=True)) == [0, first["id"], second.pk]
