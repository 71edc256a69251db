"""The OpenAPI schema tells the truth (issue 10): every status an operation can answer, in its dialect's shape.

drf-spectacular documents what a view says it answers. What every view can answer besides is
added here, in one place, from what the operation is: credentials (401 with WWW-Authenticate,
403), throttles (429 with Retry-After), a database that does not answer (503), a body too large
(413, config/limits.py) or of a media type no parser reads (415), an Idempotency-Key reused with
another body (422, checkout/idempotency.py), malformed input or a query parameter a list does not take
(400) and unknown ids or pages (404).
The seed dialect answers errors as DRF does (`{"detail"}`, or the fields in error for a 400);
/wdm answers `{"error", "detail"}` (checkout/wdm.py), except the 413, which comes before any view.
`config/tests/test_fuzz.py` holds the schema to the server's real answers with schemathesis.
"""

from drf_spectacular import openapi
from drf_spectacular.plumbing import ResolvedComponent
from drf_spectacular.utils import OpenApiExample, OpenApiParameter
from rest_framework import serializers
from rest_framework.mixins import ListModelMixin

from checkout.idempotency import MAX_KEY_LENGTH, is_idempotent
from config.docs import OPERATIONS, Doc

JSON = "application/json"


class ErrorOut(serializers.Serializer):
    detail = serializers.CharField()


# A 400 of the seed dialect: DRF's `{"detail": "JSON parse error ..."}`, or each field in error with its messages
# (`{"amount": ["..."]}`, a list's per item: `{"lines": [{}, {"amount": ["..."]}]}`), `non_field_errors` for the whole.
VALIDATION_ERROR = {
    "type": "object",
    "description": '`{"detail"}` for a body that cannot be read, else each field in error with its messages.',
    "properties": {
        "detail": {"type": "string"},
        "non_field_errors": {"type": "array", "items": {"type": "string"}},
    },
    "additionalProperties": {"anyOf": [{"type": "array"}, {"type": "object"}]},
}

DESCRIPTIONS = {
    "400": "Malformed input: the answer names what is wrong.",
    "401": "No credentials, or wrong ones (see WWW-Authenticate).",
    "403": "The credentials lack this route's scope, or act on another account.",
    "404": "Unknown id or page (or, for an end user, another account's).",
    "409": "The resource's state forbids it now; try again later.",
    "413": "The request body is longer than DATA_UPLOAD_MAX_MEMORY_SIZE; nothing was read.",
    "415": "A request body of a media type that no parser reads.",
    "422": "This Idempotency-Key was already used with another request body.",
    "429": "Throttled: too many requests from this caller (see Retry-After).",
    "503": "Unavailable: the database does not answer, or the system is at capacity (see Retry-After).",
}

# Response headers every operation may send, by status.
COMMON_HEADERS = [
    OpenApiParameter(
        "WWW-Authenticate",
        str,
        OpenApiParameter.HEADER,
        response=[401],
        required=True,
        description='The scheme to authenticate with: `Api-Key realm="api"`.',
    ),
    OpenApiParameter(
        "Retry-After",
        int,
        OpenApiParameter.HEADER,
        response=[429],
        required=True,
        description="Seconds to wait before the next request is allowed.",
    ),
    OpenApiParameter(
        "Retry-After",
        int,
        OpenApiParameter.HEADER,
        response=[503],
        description="When the system is at capacity (OVERLOADED): seconds after which a retry is likely admitted.",
    ),
]

IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    {"type": "string", "maxLength": MAX_KEY_LENGTH},
    OpenApiParameter.HEADER,
    description="A repeat with the same key (per caller, method and path) replays the first answer, with "
    "`Idempotent-Replayed: true`, and creates nothing; the same key with another body is a 422. "
    "`X-Request-Id` is read as the key when this header is absent. Keys are forgotten after a day.",
)


class AutoSchema(openapi.AutoSchema):
    def _doc(self) -> Doc | None:
        return OPERATIONS.get((self.method, self.path))

    def get_summary(self):
        doc = self._doc()
        return doc.summary if doc else super().get_summary()

    def get_description(self):
        doc = self._doc()
        return super().get_description() or (doc.description if doc else "")

    def get_examples(self):
        doc = self._doc()
        examples = [*super().get_examples()]
        if doc and doc.request is not None:
            examples.append(OpenApiExample("Seed 000", value=doc.request, request_only=True))
        return examples  # the answer's: in get_operation, without drf-spectacular's invented page links

    def get_override_parameters(self):
        parameters = [*super().get_override_parameters(), *COMMON_HEADERS]
        if self.method == "POST" and is_idempotent(self.view):
            parameters.append(IDEMPOTENCY_KEY)
        return parameters

    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is not None:
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "query" and not parameter.get("required"):
                    # DRF reads an optional query parameter sent empty (`?status=`) as absent
                    parameter["allowEmptyValue"] = True
            doc = self._doc()
            for parameter in operation.get("parameters", []):
                examples = {"path": doc.path, "query": doc.query}.get(parameter["in"], {}) if doc else {}
                if parameter["name"] in examples:  # what Swagger's "Try it out" fills in
                    parameter["example"] = examples[parameter["name"]]
            responses = operation["responses"]
            if doc and doc.response is not None:
                self._answer_example(responses, doc.response)
            for status in self._error_statuses(operation):
                if status not in responses:
                    responses[status] = self._error_response(status)
        return operation

    def _answer_example(self, responses: dict, value) -> None:
        """The 2xx answer's example; a page of a list holds the one item, as a first page would."""
        for status, response in responses.items():
            content = response.get("content", {}).get(JSON) if status.startswith("2") else None
            if content is None:
                continue
            if content["schema"].get("$ref", "").rsplit("/", 1)[-1].startswith("Paginated"):
                value = {"count": 1, "next": None, "previous": None, "results": [value]}
            content["examples"] = {"Seed000": {"value": value, "summary": "Seed 000"}}

    def _wdm(self) -> bool:
        return self.path.startswith("/wdm/")

    def _error_statuses(self, operation: dict) -> list[str]:
        """What this operation can answer besides what its view documents, from what it takes."""
        parameters = operation.get("parameters", [])
        statuses = ["401", "403", "429", "503"]
        if any(p["in"] == "path" for p in parameters) or any(p["name"] == "page" for p in parameters):
            statuses.append("404")
        if "requestBody" in operation or any(p["in"] == "query" and p["name"] != "page" for p in parameters):
            statuses.append("400")
        elif self.method == "GET" and isinstance(self.view, ListModelMixin):
            statuses.append("400")  # a query parameter the list does not take (config.api.FilterBackend)
        if self.method in ("POST", "PUT", "PATCH"):
            statuses.append("413")  # the limit is on Content-Length, so whatever the view reads
            if "requestBody" in operation:
                statuses.append("415")
        if self.method == "POST" and is_idempotent(self.view):
            statuses += ["400", "422"]  # a key too long; a key reused with another body
        return statuses

    def _error_response(self, status: str) -> dict:
        if status == "413" or not self._wdm():
            schema = self._component("ValidationError", VALIDATION_ERROR) if status == "400" else self._ref(ErrorOut)
        else:
            from checkout.wdm import RefusedOut  # the dialect's own error shape

            schema = self._ref(RefusedOut)
        response = {"description": DESCRIPTIONS[status], "content": {JSON: {"schema": schema}}}
        headers = self._get_response_headers_for_code(status)
        if headers:
            response["headers"] = headers
        return response

    def _ref(self, serializer) -> dict:
        return self.resolve_serializer(serializer, "response").ref

    def _component(self, name: str, schema: dict) -> dict:
        component = ResolvedComponent(name=name, type=ResolvedComponent.SCHEMA, object=name, schema=schema)
        self.registry.register_on_missing(component)
        return component.ref
