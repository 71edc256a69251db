"""The points API in the seed dialect: good deposits work, bad input is a clear 400 and changes nothing."""

import json

import pytest

from config.tests.bad_input import (
    BAD_IDS,
    NOT_AN_INTEGER,
    NOT_INTEGERS,
    above,
    below_one,
    malformed_json,
    not_objects,
)
from points.models import EntryKind, PointAccount, PointEntry

JSON = "application/json"
MAX_DEPOSIT = 10**12


def post_points(client, payload):
    """POST /points with `payload` encoded as JSON, whatever its type."""
    return client.post("/points", json.dumps(payload), content_type=JSON)


def nothing_stored() -> bool:
    return not PointAccount.objects.exists() and not PointEntry.objects.exists()


# --- POST /points: good input -----------------------------------------------------------


@pytest.mark.django_db
def test_first_deposit_opens_the_account(client):
    # given
    payload = {"userId": "jjy", "point": 10000}
    # when
    response = post_points(client, payload)
    # then
    assert response.status_code == 201, response.content
    assert response.json() == {"userId": "jjy", "point": 10000}
    assert PointAccount.objects.get(pk="jjy").balance == 10000
    assert list(PointEntry.objects.values_list("account_id", "kind", "amount", "saga_id")) == [
        ("jjy", EntryKind.DEPOSIT, 10000, None)
    ]


@pytest.mark.django_db
def test_second_deposit_adds_to_the_balance(client):
    # given
    post_points(client, {"userId": "jjy", "point": 10000})
    # when
    response = post_points(client, {"userId": "jjy", "point": 500})
    # then
    assert response.status_code == 201, response.content
    assert response.json() == {"userId": "jjy", "point": 10500}
    assert PointAccount.objects.get(pk="jjy").balance == 10500
    assert list(PointEntry.objects.values_list("amount", flat=True)) == [10000, 500]


@pytest.mark.django_db
def test_seed_string_typed_point_is_read_as_an_integer(client):
    # given
    payload = {"userId": "jjy", "point": "10000"}
    # when
    response = post_points(client, payload)
    # then
    assert response.status_code == 201, response.content
    body = response.json()
    assert body == {"userId": "jjy", "point": 10000}
    assert type(body["point"]) is int
    assert PointAccount.objects.get(pk="jjy").balance == 10000


@pytest.mark.django_db
def test_point_with_a_zero_fraction_is_accepted_as_an_integer(client):
    # given
    payload = {"userId": "jjy", "point": "500.0"}
    # when
    response = post_points(client, payload)
    # then
    assert response.status_code == 201, response.content
    assert response.json() == {"userId": "jjy", "point": 500}
    assert PointAccount.objects.get(pk="jjy").balance == 500


@pytest.mark.django_db
def test_largest_deposit_is_accepted(client):
    # given
    payload = {"userId": "jjy", "point": 10**12}
    # when
    response = post_points(client, payload)
    # then
    assert response.status_code == 201, response.content
    assert response.json() == {"userId": "jjy", "point": 10**12}
    assert PointAccount.objects.get(pk="jjy").balance == 10**12


@pytest.mark.django_db
@pytest.mark.parametrize("user_id", ["a" * 64, "j.j-y_1+x@example.com", "1"], ids=["64-chars", "punctuation", "digit"])
def test_user_id_of_allowed_characters_is_accepted(client, user_id):
    # given
    payload = {"userId": user_id, "point": 1}
    # when
    response = post_points(client, payload)
    # then
    assert response.status_code == 201, response.content
    assert response.json() == {"userId": user_id, "point": 1}
    assert list(PointAccount.objects.values_list("user_id", "balance")) == [(user_id, 1)]


# --- POST /points: bad input ------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("payload", "errors"),
    [
        ({}, {"userId": ["This field is required."], "point": ["This field is required."]}),
        ({"point": 100}, {"userId": ["This field is required."]}),
        ({"userId": "jjy"}, {"point": ["This field is required."]}),
    ],
    ids=["empty-object", "no-userId", "no-point"],
)
def test_missing_fields_are_rejected(client, payload, errors):
    # given / when
    response = post_points(client, payload)
    # then
    assert response.status_code == 400
    assert response.json() == errors
    assert nothing_stored()


@pytest.mark.django_db
def test_empty_body_is_rejected(client):
    # given / when
    response = client.post("/points", "", content_type=JSON)
    # then
    assert response.status_code == 400
    assert response.json() == {"userId": ["This field is required."], "point": ["This field is required."]}
    assert nothing_stored()


@pytest.mark.django_db
@pytest.mark.parametrize(("point", "errors"), below_one(MAX_DEPOSIT))
def test_zero_or_negative_point_is_rejected(client, point, errors):
    # given / when
    response = post_points(client, {"userId": "jjy", "point": point})
    # then
    assert response.status_code == 400
    assert response.json() == {"point": errors}
    assert nothing_stored()


@pytest.mark.django_db
@pytest.mark.parametrize(("point", "errors"), NOT_INTEGERS)
def test_point_that_is_not_an_integer_is_rejected(client, point, errors):
    # given / when
    response = post_points(client, {"userId": "jjy", "point": point})
    # then
    assert response.status_code == 400
    assert response.json() == {"point": errors}
    assert nothing_stored()


@pytest.mark.django_db
@pytest.mark.parametrize(("point", "errors"), above(MAX_DEPOSIT))
def test_oversized_point_is_rejected(client, point, errors):
    # given / when
    response = post_points(client, {"userId": "jjy", "point": point})
    # then
    assert response.status_code == 400
    assert response.json() == {"point": errors}
    assert nothing_stored()


@pytest.mark.django_db
def test_huge_json_number_is_rejected(client):
    # given: 1e400 is read as infinity by Python's JSON parser
    body = '{"userId": "jjy", "point": 1e400}'
    # when
    response = client.post("/points", body, content_type=JSON)
    # then
    assert response.status_code == 400
    assert response.json() == {"point": [NOT_AN_INTEGER]}
    assert nothing_stored()


@pytest.mark.django_db
def test_deposit_that_would_overflow_the_balance_is_rejected(client):
    # given
    PointAccount.objects.create(user_id="rich", balance=10**15)
    # when
    response = post_points(client, {"userId": "rich", "point": 1})
    # then
    assert response.status_code == 400
    assert response.json() == {"point": ["a balance may not exceed 1000000000000000"]}
    assert PointAccount.objects.get(pk="rich").balance == 10**15
    assert not PointEntry.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(("user_id", "errors"), BAD_IDS)
def test_bad_user_id_is_rejected(client, user_id, errors):
    # given / when
    response = post_points(client, {"userId": user_id, "point": 100})
    # then
    assert response.status_code == 400
    assert response.json() == {"userId": errors}
    assert nothing_stored()


@pytest.mark.django_db
@pytest.mark.parametrize(("payload", "errors"), not_objects({"userId": "jjy", "point": 100}))
def test_json_that_is_not_an_object_is_rejected(client, payload, errors):
    # given / when
    response = post_points(client, payload)
    # then
    assert response.status_code == 400
    assert response.json() == {"non_field_errors": errors}
    assert nothing_stored()


@pytest.mark.django_db
@pytest.mark.parametrize("body", malformed_json("userId", "point"))
def test_malformed_json_is_rejected(client, body):
    # given / when
    response = client.post("/points", body, content_type=JSON)
    # then
    assert response.status_code == 400
    assert response.json()["detail"].startswith("JSON parse error - ")
    assert nothing_stored()


# --- GET /points, /points/{userId}, /transactions ---------------------------------------------


@pytest.mark.django_db
def test_accounts_are_listed_by_user_id(client):
    # given
    post_points(client, {"userId": "zed", "point": 1})
    post_points(client, {"userId": "jjy", "point": 10000})
    # when
    response = client.get("/points")
    # then
    assert response.status_code == 200
    assert response.json()["results"] == [{"userId": "jjy", "point": 10000}, {"userId": "zed", "point": 1}]


@pytest.mark.django_db
def test_no_accounts_is_an_empty_list(client):
    # given / when
    response = client.get("/points")
    # then
    assert response.status_code == 200
    assert response.json() == {"count": 0, "next": None, "previous": None, "results": []}


@pytest.mark.django_db
def test_one_account_shows_its_balance(client):
    # given
    post_points(client, {"userId": "jjy", "point": "10000"})
    # when
    response = client.get("/points/jjy")
    # then
    assert response.status_code == 200
    assert response.json() == {"userId": "jjy", "point": 10000}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("user_id", "detail"),
    [
        ("nobody", "No PointAccount matches the given query."),
        ("a" * 65, "Not found."),  # not an id at all: the URL does not match, no query runs
        ("j%20jy", "Not found."),
        ("%00", "Not found."),
    ],
    ids=["unknown", "65-chars", "space", "nul"],
)
def test_unknown_account_is_404(client, user_id, detail):
    # given
    post_points(client, {"userId": "jjy", "point": 10000})
    # when
    response = client.get(f"/points/{user_id}")
    # then
    assert response.status_code == 404
    assert response.json() == {"detail": detail}
    assert list(PointAccount.objects.values_list("user_id", flat=True)) == ["jjy"]


@pytest.mark.django_db
def test_no_transactions_is_an_empty_list(client):
    # given / when
    response = client.get("/transactions")
    # then
    assert response.status_code == 200
    assert response.json() == {"count": 0, "next": None, "previous": None, "results": []}
