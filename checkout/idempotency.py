"""Idempotent requests (seed 002, ADR 0005): a repeat with the same key replays the first response.

The key is stored in the same transaction as whatever the request creates, unique per
(key, method, path). A concurrent repeat blocks on that unique index until the first
request commits, then replays its response; if the first one rolled back, the repeat
runs as if it were first. The same key with another body is a 422. Keys are per caller
(ADR 0012): another caller's same key is a new request, never a replay of someone else's answer.
"""

import functools
import hashlib
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.exceptions import APIException
from rest_framework.response import Response

from .models import IdempotentRequest

HEADERS = ("Idempotency-Key", "X-Request-Id")
MAX_KEY_LENGTH = 200
REPLAYED_HEADER = "Idempotent-Replayed"


class KeyTooLong(APIException):
    status_code = 400
    default_code = "idempotency_key_too_long"
    default_detail = f"An Idempotency-Key has at most {MAX_KEY_LENGTH} characters."


class KeyReused(APIException):
    """Raised, not answered: each dialect's exception handling gives it that dialect's error shape."""

    status_code = 422
    default_code = "idempotency_key_reused"
    default_detail = "This Idempotency-Key was already used with a different request body."


def idempotent(handler):
    """Decorate a DRF view's `post`/`create` so that it honours Idempotency-Key / X-Request-Id."""

    @functools.wraps(handler)
    def wrapper(view, request, *args, **kwargs):
        key = next((request.headers[name] for name in HEADERS if request.headers.get(name)), None)
        if key is None:
            return handler(view, request, *args, **kwargs)
        if len(key) > MAX_KEY_LENGTH:
            raise KeyTooLong()
        fingerprint = hashlib.sha256(request.body).hexdigest()
        caller = getattr(request.user, "throttle_key", "open:open")
        scope = {
            "key": key if caller == "open:open" else f"{caller}|{key}",
            "method": request.method,
            "path": request.path,
        }
        with transaction.atomic():
            try:
                with transaction.atomic():
                    record = IdempotentRequest.objects.create(fingerprint=fingerprint, **scope)
            except IntegrityError:
                return _replay(IdempotentRequest.objects.get(**scope), fingerprint)
            response = handler(view, request, *args, **kwargs)
            if response.status_code >= 500:
                transaction.set_rollback(True)  # nothing was created; a retry runs again
                return response
            record.status_code = response.status_code
            record.response = {"data": response.data, "location": response.headers.get("Location")}
            record.save(update_fields=["status_code", "response"])
            return response

    wrapper.idempotent = True
    return wrapper


def is_idempotent(view) -> bool:
    """Whether a view's POST honours Idempotency-Key (for the schema: config/schema.py)."""
    return any(getattr(getattr(view, name, None), "idempotent", False) for name in ("post", "create"))


def _replay(first: IdempotentRequest, fingerprint: str) -> Response:
    if first.fingerprint != fingerprint:
        raise KeyReused()
    headers = {REPLAYED_HEADER: "true"}
    if first.response.get("location"):
        headers["Location"] = first.response["location"]
    return Response(first.response["data"], status=first.status_code, headers=headers)


def idempotency_keys_forget(*, older_than: timedelta) -> int:
    """Delete the keys older than `older_than`; return how many."""
    deleted, _ = IdempotentRequest.objects.filter(created_at__lt=timezone.now() - older_than).delete()
    return deleted
