"""Currencies in the admin: created and repriced there; stock moves only through the ledger."""

import pytest
from django.urls import reverse

from exchanges.models import Currency, StockEntry

pytestmark = pytest.mark.django_db


def test_a_currency_created_in_the_admin_records_its_starting_stock(admin_client):
    # when
    response = admin_client.post(reverse("admin:exchanges_currency_add"), {"code": "KRW", "rate": "3", "stock": "40"})
    # then
    assert response.status_code == 302
    currency = Currency.objects.get(code="KRW")
    assert (currency.rate, currency.stock) == (3, 40)
    assert list(StockEntry.objects.values_list("currency_id", "kind", "amount")) == [(currency.pk, "SET", 40)]


def test_the_admin_reprices_a_currency_but_does_not_move_its_stock(admin_client, usd):
    # when
    response = admin_client.post(
        reverse("admin:exchanges_currency_change", args=[1]), {"code": "USD", "rate": "2", "stock": "5"}
    )
    # then
    assert response.status_code == 302
    assert (Currency.objects.get(pk=1).rate, Currency.objects.get(pk=1).stock) == (2, 1_000_000)
