"""Every admin page a user can reach renders: each registered model's list and its first object's page."""

import pytest
from django.contrib import admin
from django.urls import reverse

from checkout.services import order_place
from points.services import points_deposit

pytestmark = pytest.mark.django_db


@pytest.fixture
def some_of_everything(usd):
    points_deposit(user_id="jjy", amount=10_000)
    return order_place(holder_id="jjy", lines=[(1, 500)])


def _admin_pages():
    for model in admin.site._registry:
        yield pytest.param(model, id=f"{model._meta.app_label}.{model._meta.model_name}")


@pytest.mark.parametrize("model", list(_admin_pages()))
def test_admin_list_and_change_pages_render(admin_client, some_of_everything, model):
    opts = model._meta
    # when
    listing = admin_client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
    # then
    assert listing.status_code == 200
    first = model.objects.first()
    if first is not None:
        page = admin_client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[first.pk]))
        assert page.status_code == 200


def test_orders_filter_by_status_and_reason(admin_client, some_of_everything):
    url = reverse("admin:orders_order_changelist")
    assert admin_client.get(url, {"status__exact": "PENDING"}).context["cl"].result_count == 1
    assert admin_client.get(url, {"status__exact": "REJECTED"}).context["cl"].result_count == 0
    assert admin_client.get(url, {"rejection_reason__exact": "DEADLINE"}).context["cl"].result_count == 0


def test_the_order_page_shows_its_events_in_time_order(admin_client, some_of_everything):
    page = admin_client.get(reverse("admin:orders_order_change", args=[some_of_everything.pk]))
    assert page.status_code == 200
    assert b"OrderCreated" in page.content
