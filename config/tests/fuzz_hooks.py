"""schemathesis hooks for config/tests/test_fuzz.py (loaded by its `hooks` setting), each with its reason."""

import re

import schemathesis

# batch_init writes ids 0..n-1: n up to 1_000_000 as documented, which is a million accounts, items or orders
# (and their ledger rows) per request, minutes of a run on two cores and a database that slows every read after.
# A valid `n` is made small (the same value modulo SMALL_BATCH: still valid, so the case stays what it was); an
# invalid one is sent as generated. `n_items` likewise: an order's lines pick items among 0..n_items-1, and the
# test worker runs seed 000's fault profile, whose items 100 and 200 sleep past the deadline on purpose.
SMALL_BATCH = 5
CAPPED = {"n": SMALL_BATCH, "n_items": 50}


def _valid_count(value, maximum: int) -> int | None:
    text = str(value)
    if re.fullmatch(r"[0-9]{1,30}", text) and int(text) <= maximum:
        return int(text)
    return None


@schemathesis.hook
def map_case(context, case):
    # This runs in schemathesis's process, without Django: the maximum comes from the schema.
    if "/batch_init/" in case.operation.path and case.path_parameters:
        maxima = {p.name: p.definition["schema"]["maximum"] for p in case.operation.path_parameters}
        for name, cap in CAPPED.items():
            count = _valid_count(case.path_parameters.get(name), maxima.get(name, 0))
            if count is not None and count > cap:
                case.path_parameters[name] = count % cap + (1 if name == "n_items" else 0)
    return case
