"""API plumbing shared by every app: clear 400s for bad input, 503s for a sick backend, usable forms."""

import logging
import re
from datetime import UTC, datetime

from django import forms
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError, OperationalError
from django_filters import rest_framework as filters
from django_filters.fields import IsoDateTimeField
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema_field
from rest_framework import mixins, pagination, parsers, renderers, serializers
from rest_framework.exceptions import NotFound, ParseError, ValidationError
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.utils import formatting

from config.errors import Overloaded, Refused


class JSONParser(parsers.JSONParser):
    """DRF's, with a body nested too deeply for Python's parser a 400 like any other malformed JSON.

    Python's json module raises RecursionError past ~1000 levels, which DRF's parser lets through
    as a 500 (issue 10: 5000 levels of nesting).
    """

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - nested too deeply") from None


log = logging.getLogger(__name__)


class PageNumberPagination(pagination.PageNumberPagination):
    """DRF's, with `?page=` in ASCII digits (or `last`) only: Python's int() also reads other scripts'
    digits ("႑" is 1), which the schema's integer does not admit (found by schemathesis)."""

    def get_page_number(self, request, paginator):
        page = super().get_page_number(request, paginator)
        if isinstance(page, str) and not (page.isascii() and page.isdigit()):  # an int: "last" or the default
            raise NotFound(
                self.invalid_page_message.format(page_number=page, message="That page number is not an integer")
            )
        return page


# ASCII, spelled out: Python's `\w` also matches "Ì" or "٣", JSON Schema's (ECMA-262) does not, and the schema
# documents this very pattern (found by the schema fuzzer: `7Ì` was an id to the server, not to the schema).
ID_CHARACTERS = r"[A-Za-z0-9_.@+-]{1,64}"
ID_PATTERN = rf"^{ID_CHARACTERS}$"
ID_HELP = "1 to 64 letters, digits or . @ + - _"  # ASCII ones: ID_CHARACTERS


def exception_handler(exc, context):
    # Imported here: rest_framework.views reads DEFAULT_RENDERER_CLASSES, which names this module's
    # renderer, as it loads; imported at the top, a process whose first import is this module fails.
    from rest_framework.views import exception_handler as drf_exception_handler

    if isinstance(exc, Overloaded):
        return overloaded_response(exc)
    if isinstance(exc, Refused):
        return Response({"error": exc.code, "detail": exc.detail}, status=exc.status)
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        exc = ValidationError(detail=detail)
    if isinstance(exc, OperationalError | InterfaceError):
        log.exception("database unavailable")
        return Response({"detail": "The database is unavailable; try again."}, status=503)
    return drf_exception_handler(exc, context)


def overloaded_response(exc: Overloaded, **body) -> Response:
    """At capacity (ADR 0010): 503, the error body, and when to come back in whole seconds."""
    return Response(
        exc.body(**body),
        status=exc.status,
        headers={"Retry-After": str(exc.retry_after)},
    )


class OverloadedOut(serializers.Serializer):
    """503: at capacity (`error` OVERLOADED, with Retry-After), or the database does not answer (no `error`)."""

    error = serializers.CharField(required=False, help_text="OVERLOADED")
    detail = serializers.CharField()


RETRY_AFTER = OpenApiParameter(
    "Retry-After",
    int,
    OpenApiParameter.HEADER,
    response=[503],
    description="On OVERLOADED: seconds after which a retry is likely to be admitted (at least 1).",
)


PREFER_WAIT = OpenApiParameter(
    "Prefer",
    str,
    OpenApiParameter.HEADER,
    description="RFC 7240: `wait=N` answers the order once its saga is settled (APPROVED, or REJECTED with every "
    "compensation done), if that happens within N seconds; else the order as it is then, as without the header. "
    "N is capped at the deadline + the checkout wait's grace (SAGA_DEADLINE_SECONDS + SAGA_WAIT_GRACE_SECONDS, "
    "40 s by default). Anything else, or a malformed wait, is ignored (RFC 7240): the answer comes at once.",
    examples=[OpenApiExample("wait for the outcome", value="wait=15")],
)
PREFERENCE_APPLIED = OpenApiParameter(
    "Preference-Applied",
    str,
    OpenApiParameter.HEADER,
    response=[201],
    description="`wait=N` when the request's `Prefer: wait` was honoured: N is the wait applied (the cap, if it "
    "asked for more).",
)


INT64 = (-(2**63), 2**63 - 1)


@extend_schema_field(
    {
        "anyOf": [
            {"type": "string", "minLength": 1, "maxLength": 64, "pattern": ID_PATTERN},
            {"type": "integer", "minimum": INT64[0], "maximum": INT64[1], "description": "read as its digits"},
        ]
    }
)
class _IdField(serializers.RegexField):
    """An id: a string, or a JSON integer read as its digits (`42` is "42"); not `1.5`, `true` or `1e400`.

    DRF's CharField would read any number as its text ("1.5"), which no schema can say; an integer
    of 64 bits is what a client that keeps ids as numbers sends.
    """

    def to_internal_value(self, data):
        if isinstance(data, int) and not isinstance(data, bool):
            if not INT64[0] <= data <= INT64[1]:
                self.fail("invalid")
        elif not isinstance(data, str) or (data.strip() and data.strip() != data):
            self.fail("invalid")  # " jjy" is not "jjy" (DRF trims); "   " stays DRF's blank
        return super().to_internal_value(data)


def IdField(**kwargs) -> serializers.RegexField:
    # Anchored with \A...\Z: a RegexField searches, and `$` also matches before a trailing newline.
    return _IdField(
        rf"\A{ID_CHARACTERS}\Z",
        max_length=64,
        error_messages={"invalid": f"Use {ID_HELP}."},
        help_text=ID_HELP,
        **kwargs,
    )


class IdConverter:
    """A path segment that can be an account or holder id; anything else is a 404 before any query."""

    regex = ID_CHARACTERS

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


class StrictIntegerField(serializers.IntegerField):
    """An integer as JSON or as plain ASCII digits ("500", "500.0"); not "1_000", "1e3" or fullwidth digits."""

    ascii_integer = re.compile(r"^\s*-?[0-9]+(\.0*)?\s*$")

    def to_internal_value(self, data):
        if isinstance(data, str) and not self.ascii_integer.match(data):
            self.fail("invalid")
        return super().to_internal_value(data)


class BrowsableAPIRenderer(renderers.BrowsableAPIRenderer):
    """DRF's browsable API, for views that read one serializer (DepositIn) and answer with another (AccountOut).

    After a POST, DRF rebuilds the HTML form from the serializer of the answer's data, assuming
    it is the form's own. Ours are not: after placing an order the form became OrderOut's
    fields (status, deadline ...), and after a deposit the "point" field held the new balance,
    which a second click would have deposited. A successful POST gets a fresh, empty input
    form; a refused one keeps the input form with what was typed and the error messages.
    """

    def get_rendered_html_form(self, data, view, method, request):
        answer = getattr(view, "response", None)
        if method == "POST" and request.method == "POST" and answer is not None and answer.status_code < 400:
            data = None
        return super().get_rendered_html_form(data, view, method, request)


def view_name(view) -> str:
    """The browsable API's page titles: `Orders`, `My Page`, not DRF's `Orders Api`."""
    name = getattr(view, "name", None)
    if name:
        return name
    name = formatting.camelcase_to_spaces(formatting.remove_trailing_string(view.__class__.__name__, "Api"))
    suffix = getattr(view, "suffix", None)
    return f"{name} {suffix}" if suffix else name


# --- the lists' query parameters (django-filter) -------------------------------------------------------------


class _StrictIntegerFormField(forms.IntegerField):
    """Django's IntegerField, with StrictIntegerField's rule (ASCII digits) and DRF's words for a non-integer."""

    default_error_messages = {"invalid": "A valid integer is required.", "max_string_length": "String value too large."}

    def to_python(self, value):
        if isinstance(value, str) and len(value) > serializers.IntegerField.MAX_STRING_LENGTH:
            raise forms.ValidationError(self.error_messages["max_string_length"], code="max_string_length")
        if isinstance(value, str) and value.strip() and not StrictIntegerField.ascii_integer.match(value):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return super().to_python(value)


class _IdFormField(forms.RegexField):
    def __init__(self, **kwargs):
        super().__init__(rf"\A{ID_CHARACTERS}\Z", error_messages={"invalid": f"Use {ID_HELP}."}, **kwargs)


@extend_schema_field({"type": "integer", "minimum": 1, "maximum": INT64[1]})
class IntegerFilter(filters.Filter):
    """An id in a query (`?orderId=7`): ASCII digits, 1 to 2**63-1; not `1.5` (django-filter's NumberFilter reads
    decimals, and the id lookup would truncate it to 1)."""

    field_class = _StrictIntegerFormField

    def __init__(self, *args, **kwargs):
        super().__init__(*args, min_value=1, max_value=INT64[1], **kwargs)


@extend_schema_field({"type": "string", "minLength": 1, "maxLength": 64, "pattern": ID_PATTERN})
class IdFilter(filters.CharFilter):
    """An account id in a query (`?holderId=jjy`): what the API takes as an id, else a 400."""

    field_class = _IdFormField


class _UtcDateTimeFormField(IsoDateTimeField):
    """An ISO 8601 date-time, in UTC: PostgreSQL refuses offsets beyond 15:59 (`-16:55`, which ISO 8601 and Python
    allow), a 500 if sent as they are (found by schemathesis). Past year 1 or 9999 once in UTC: as far as time goes."""

    def to_python(self, value):
        moment = super().to_python(value)
        if moment is None:
            return None
        try:
            return moment.astimezone(UTC)
        except OverflowError:
            return (datetime.min if moment.year == 1 else datetime.max).replace(tzinfo=UTC)


class DateTimeFilter(filters.IsoDateTimeFilter):
    field_class = _UtcDateTimeFormField


class ListFilterSet(filters.FilterSet):
    """What every list can be narrowed by: when its rows were made, both ends inclusive (ISO 8601)."""

    createdAfter = DateTimeFilter(
        field_name="created_at", lookup_expr="gte", label="Created after", help_text="ISO 8601, inclusive."
    )
    createdBefore = DateTimeFilter(
        field_name="created_at", lookup_expr="lte", label="Created before", help_text="ISO 8601, inclusive."
    )


class FilterBackend(filters.DjangoFilterBackend):
    """django-filter's backend, for lists only, and strict: a query parameter no one reads is a 400 naming it.

    A misspelt filter (`?statusx=`) would otherwise list everything, as if it had matched. Accepted: the
    view's filters, the paginator's `page`, and what DRF reads itself (`format`). A detail view
    (`/orders/7`) filters nothing: its id says which row. Runs on the view's queryset, after `owned()`,
    so a filter narrows what the caller may see and never widens it.
    """

    def filter_queryset(self, request, queryset, view):
        if not isinstance(view, mixins.ListModelMixin):
            return queryset
        unknown = sorted(set(request.query_params) - accepted_query_parameters(view, queryset))
        if unknown:
            accepted = ", ".join(sorted(accepted_query_parameters(view, queryset)))
            raise ValidationError(
                {"detail": f"Unknown query parameter: {', '.join(unknown)}. This list accepts: {accepted}."}
            )
        return super().filter_queryset(request, queryset, view)


def accepted_query_parameters(view, queryset=None) -> set[str]:
    names = {api_settings.URL_FORMAT_OVERRIDE}
    filterset_class = FilterBackend().get_filterset_class(view, queryset)
    if filterset_class is not None:
        names |= set(filterset_class.base_filters)
    paginator = getattr(view, "paginator", None)
    if paginator is not None:
        names |= {getattr(paginator, "page_query_param", None), getattr(paginator, "page_size_query_param", None)}
    return {name for name in names if name}
