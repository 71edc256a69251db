"""An operator's admin shows the saga, not the scheduler's internals, which stay with superusers (issue 12)."""

import pytest
from django.contrib.auth.models import Group
from playwright.sync_api import expect

from config.admin_mixins import can_steer
from config.operators import OPERATORS, operators_group_ensure
from config.tests.browser import operator_login, screenshot

SAGA = ["Orders", "Saga attempts", "Saga events", "Point accounts", "Currencies", "Exchanges"]
INTERNALS = [
    "Periodic tasks",
    "Crontabs",
    "Clocked",
    "Idempotent requests",
    "Outbox messages",
    "Service keys",
    "Users",
    "Access attempts",
]


@pytest.fixture
def operator(db, django_user_model):
    user = django_user_model.objects.create_user("oncall", password="long-enough-secret", is_staff=True)
    user.groups.add(Group.objects.get(name=OPERATORS))
    return user


def test_migrate_leaves_an_operators_group_and_making_it_again_changes_nothing(db):
    group = Group.objects.get(name=OPERATORS)
    before = set(group.permissions.values_list("codename", flat=True))
    assert {"view_order", "view_saga", "change_saga", "view_sagaevent", "view_pointaccount"} <= before
    assert not {codename for codename in before if "periodic" in codename or "outbox" in codename}
    assert set(operators_group_ensure().permissions.values_list("codename", flat=True)) == before


def test_an_operator_sees_the_saga_and_may_steer_it_but_not_the_internals(client, operator):
    client.force_login(operator)
    index = client.get("/admin/").content.decode()
    for name in SAGA:
        assert f">{name}<" in index, name
    for name in INTERNALS:
        assert f">{name}<" not in index, name
    assert client.get("/admin/checkout/saga/").status_code == 200
    assert client.get("/admin/django_celery_beat/periodictask/").status_code == 403
    assert client.get("/admin/checkout/outboxmessage/").status_code == 403
    assert can_steer(operator)


def test_a_superuser_still_sees_the_internals(admin_client):
    index = admin_client.get("/admin/").content.decode()
    for name in ["Periodic tasks", "Idempotent requests", "Outbox messages", "Service keys"]:
        assert f">{name}<" in index, name


def test_an_operator_logging_in_sees_the_saga_on_the_admin_index(page, live_server):
    # when an on-call operator (staff, not superuser) logs in through the login form
    operator_login(page, live_server)
    # then the index lists the saga's records and links the dashboard, and none of the internals
    expect(page.get_by_role("link", name="Saga dashboard")).to_be_visible()
    models = set(page.locator("#content-main th[scope=row]").all_inner_texts())
    assert set(SAGA) <= models
    assert models.isdisjoint(INTERNALS)
    # in the order of an order's story: the order, its saga, then the participants
    sections = page.locator("#content-main .module caption").all_inner_texts()
    assert [section.upper() for section in sections] == ["ORDERS", "CHECKOUT (THE SAGA)", "POINTS", "EXCHANGES"]
    screenshot(page, "admin-index-operator")
