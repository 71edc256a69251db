"""The `Prefer: wait=N` request header (RFC 7240), read the same way by the door and by POST /orders.

Imports nothing of Django's: the door (config/door.py) reads it before Django runs.

RFC 7240 asks a server to ignore what it does not recognise, and so a `wait` whose value is not
delta-seconds (`wait=soon`, `wait=-1`, `wait=`) counts as absent, not as an error (ADR 0004,
"Prefer: wait"). Only the first `wait` counts (RFC 7240, section 2); names are case-insensitive,
a value may be a quoted string, and a preference's parameters (`; ...`) are ignored.
"""

import math
import re

WAIT_DIGITS = 9  # more digits than that is longer than any cap: read as the cap, without int() of a huge string
_WAIT = re.compile(r'^\s*wait\s*=\s*("?)([0-9]+)\1\s*$', re.IGNORECASE)
_NAME = re.compile(r"^\s*wait\s*(=|$)", re.IGNORECASE)


def prefer_wait(header: str | None) -> int | None:
    """The seconds a `Prefer` header asks to wait (its first `wait`), or None when it asks none or not validly."""
    if not header:
        return None
    for preference in header.split(","):
        token = preference.split(";", 1)[0]
        if not _NAME.match(token):
            continue
        match = _WAIT.match(token)
        if match is None:
            return None  # the first wait is invalid: ignored, and the later ones are not considered
        digits = match.group(2).lstrip("0") or "0"
        return int(digits) if len(digits) <= WAIT_DIGITS else 10**WAIT_DIGITS
    return None


def wait_applied(asked: int, *, deadline_seconds: float, grace_seconds: float) -> int:
    """What a POST /orders waits at most: what it asked, up to the attempt's deadline + the grace of a /wdm
    checkout's wait (SAGA_DEADLINE_SECONDS + SAGA_WAIT_GRACE_SECONDS, 40 s by default), in whole seconds."""
    return min(asked, math.ceil(deadline_seconds + grace_seconds))
