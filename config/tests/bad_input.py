"""Bad input shared by the API tests: one table per kind of field, each row a value and the errors it earns.

Every field of a kind is tried with the whole table, so a case added here is tried on all
of them: an id (`holderId`, `userId`), an integer (`amount`, `currencyId`, `point`, the
`orderId` query), a JSON body. Tables that depend on the field (its bounds, its names)
are functions of it.
"""

import pytest

ID_MESSAGE = "Use 1 to 64 letters, digits or . @ + - _."
NOT_AN_INTEGER = "A valid integer is required."
NOT_NULL = "This field may not be null."
BLANK = "This field may not be blank."
TOO_SMALL = "Ensure this value is greater than or equal to 1."
STRING_TOO_LONG = "String value too large."


def too_large(maximum: int) -> str:
    return f"Ensure this value is less than or equal to {maximum}."


# --- ids: holderId, userId ---------------------------------------------------------------

BAD_IDS = [
    pytest.param("", [BLANK], id="empty"),
    pytest.param("   ", [BLANK], id="only-spaces"),
    pytest.param("a" * 65, ["Ensure this field has no more than 64 characters.", ID_MESSAGE], id="65-chars"),
    pytest.param("j jy", [ID_MESSAGE], id="inner-space"),
    pytest.param("a\tb", [ID_MESSAGE], id="tab"),
    pytest.param("a/b", [ID_MESSAGE], id="slash"),
    pytest.param("../jjy", [ID_MESSAGE], id="dot-dot"),
    pytest.param("jjy/../admin", [ID_MESSAGE], id="dot-dot-slash"),
    pytest.param("a\\b", [ID_MESSAGE], id="backslash"),
    pytest.param("jjy?x=1", [ID_MESSAGE], id="query"),
    pytest.param("nul\x00byte", ["Null characters are not allowed.", ID_MESSAGE], id="nul"),
    pytest.param("\ud800", ["Surrogate characters are not allowed: U+D800.", ID_MESSAGE], id="surrogate"),
    pytest.param(None, [NOT_NULL], id="null"),
    pytest.param(True, [ID_MESSAGE], id="true"),
    pytest.param([], [ID_MESSAGE], id="list"),
    pytest.param({}, [ID_MESSAGE], id="object"),
    # found by the schema fuzzer: what DRF took as an id and the schema (JSON Schema's regexes) does not
    pytest.param("j\u00ccy", [ID_MESSAGE], id="non-ascii-letter"),
    pytest.param("\u0663", [ID_MESSAGE], id="non-ascii-digit"),
    pytest.param(" jjy", [ID_MESSAGE], id="leading-space"),
    pytest.param("jjy\n", [ID_MESSAGE], id="trailing-newline"),
    pytest.param(1.5, [ID_MESSAGE], id="float"),
    pytest.param(2**63, [ID_MESSAGE], id="past-64-bits"),
]

# --- integers: amount, currencyId, point, orderId ----------------------------------------

NOT_INTEGERS = [
    pytest.param("abc", [NOT_AN_INTEGER], id="abc"),
    pytest.param("1e3", [NOT_AN_INTEGER], id="1e3"),
    pytest.param("", [NOT_AN_INTEGER], id="empty"),
    pytest.param(1.5, [NOT_AN_INTEGER], id="1.5"),
    pytest.param("1.5", [NOT_AN_INTEGER], id="1.5-string"),
    pytest.param("500.5", [NOT_AN_INTEGER], id="500.5-string"),
    pytest.param("1_000", [NOT_AN_INTEGER], id="underscores"),
    pytest.param("\uff15\uff10\uff10", [NOT_AN_INTEGER], id="fullwidth"),  # fullwidth digits
    pytest.param("true", [NOT_AN_INTEGER], id="true-string"),
    pytest.param("[1]", [NOT_AN_INTEGER], id="list-string"),
    pytest.param("9" * 1001, [STRING_TOO_LONG], id="1001-digit-string"),
    pytest.param(True, [NOT_AN_INTEGER], id="true"),
    pytest.param(False, [NOT_AN_INTEGER], id="false"),
    pytest.param(None, [NOT_NULL], id="null"),
    pytest.param([], [NOT_AN_INTEGER], id="list"),
    pytest.param([500], [NOT_AN_INTEGER], id="list-of-int"),
    pytest.param({}, [NOT_AN_INTEGER], id="object"),
]


def below_one(maximum: int) -> list:
    """Zero and negative numbers, down to minus the field's `maximum`: each too small."""
    return [
        pytest.param(0, [TOO_SMALL], id="zero"),
        pytest.param(-1, [TOO_SMALL], id="minus-one"),
        pytest.param("-1", [TOO_SMALL], id="minus-one-string"),
        pytest.param("-500", [TOO_SMALL], id="minus-string"),
        pytest.param(-maximum, [TOO_SMALL], id="minus-big"),
    ]


def above(maximum: int) -> list:
    """Numbers just and far above the field's `maximum`, up past what a bigint holds: each too large."""
    names = {maximum + 1: "max-plus-one"} | {
        2**63: "2**63",
        2**64: "2**64",
        10**29 + 1: "30-digits",
        str(10**29 + 1): "30-digit-string",
    }
    return [pytest.param(value, [too_large(maximum)], id=name) for value, name in names.items()]


def as_text(cases: list) -> list:
    """The cases a query string can carry: text as it is, whole numbers as their digits, each text once.

    Not the empty text: an empty optional query parameter counts as left out, not as bad.
    """
    texts = {}
    for case in cases:
        value, errors = case.values
        if isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool)):
            texts.setdefault(str(value), pytest.param(str(value), errors, id=case.id))
    texts.pop("", None)
    return list(texts.values())


# --- bodies --------------------------------------------------------------------------------


def not_objects(payload: dict) -> list:
    """JSON bodies that are not an object; the list holds a good `payload`."""
    return [
        pytest.param([payload], ["Invalid data. Expected a dictionary, but got list."], id="list"),
        pytest.param("jjy", ["Invalid data. Expected a dictionary, but got str."], id="string"),
        pytest.param(500, ["Invalid data. Expected a dictionary, but got int."], id="number"),
        pytest.param(True, ["Invalid data. Expected a dictionary, but got bool."], id="true"),
        pytest.param(None, ["No data provided"], id="null"),
    ]


def malformed_json(id_field: str, number_field: str) -> list:
    """Bodies that are not JSON at all, spelled with the endpoint's id and number fields."""
    return [
        pytest.param(f'{{"{id_field}": "jjy", "{number_field}": ', id="truncated"),
        pytest.param(f"{id_field}=jjy&{number_field}=500", id="form-encoded"),
        pytest.param(f"{{'{id_field}': 'jjy', '{number_field}': 500}}", id="single-quotes"),
        pytest.param(f'{{"{number_field}": Infinity}}', id="infinity"),
        pytest.param(f'{{"{number_field}": NaN}}', id="nan"),
        # more digits than Python converts to an int
        pytest.param(f'{{"{id_field}": "jjy", "{number_field}": {"9" * 5000}}}', id="5000-digit-number"),
        # deeper than Python's parser recurses (a RecursionError, not a ValueError)
        pytest.param(f'{{"{id_field}": "jjy", "{number_field}": {"[" * 5000}{"]" * 5000}}}', id="nested-5000-deep"),
    ]


# --- order ids in a path -------------------------------------------------------------------

UNKNOWN_ORDER_IDS = [
    pytest.param("999999", id="unknown"),
    pytest.param("0", id="zero"),
    pytest.param(str(2**63), id="2**63"),
    pytest.param("1" * 30, id="30-digits"),
]

NOT_ORDER_IDS = [
    pytest.param("abc", id="letters"),
    pytest.param("-1", id="negative"),
    pytest.param("1.5", id="fraction"),
]
