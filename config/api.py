"""API plumbing shared by every app: clear 400s for bad input, 503s for a sick backend."""

import logging

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError, OperationalError
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

log = logging.getLogger(__name__)

ID_PATTERN = r"^[\w.@+-]{1,64}$"
ID_HELP = "1 to 64 letters, digits or . @ + - _"


def exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        exc = ValidationError(detail=detail)
    if isinstance(exc, OperationalError | InterfaceError):
        log.exception("database unavailable")
        return Response({"detail": "The database is unavailable; try again."}, status=503)
    return drf_exception_handler(exc, context)


def IdField(**kwargs) -> serializers.RegexField:
    return serializers.RegexField(
        ID_PATTERN, max_length=64, error_messages={"invalid": f"Use {ID_HELP}."}, help_text=ID_HELP, **kwargs
    )
