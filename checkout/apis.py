import json
import time

from django.http import Http404, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import generics
from rest_framework.exceptions import PermissionDenied
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from callers.models import Scope
from callers.permissions import account_check, owned
from config.api import RETRY_AFTER, OverloadedOut
from config.schema import ErrorOut
from orders.models import Order

from . import selectors
from .filters import DeadlinesFilter, EventsFilter, order_of
from .follow import events_follow
from .models import Saga, SagaEvent
from .serializers import STREAM_SECONDS, DeadlineOut, EventMessageOut, EventOut, MyPageOut, StreamQuery


class EventsApi(generics.ListAPIView):
    """The saga event log, oldest first, as one list. `?orderId=N` shows all of that order's events (seed 000's
    monitoring tool); without it, the newest 1000 of those the other filters select: `?holderId=`,
    `?createdAfter=` and `?createdBefore=` (ISO 8601)."""

    serializer_class = EventOut
    scopes = {"GET": Scope.READ}
    filterset_class = EventsFilter
    queryset = SagaEvent.objects.none()  # the model, for the schema's filters; the rows: get_queryset()
    pagination_class = None

    def get_queryset(self):
        return owned(self.request, SagaEvent.objects.all(), "order__holder_id")

    @extend_schema(responses={200: EventMessageOut(many=True), 404: ErrorOut})
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def list(self, request, *args, **kwargs):
        events = self.filter_queryset(self.get_queryset())
        if request.query_params.get("orderId"):
            events = events.order_by("timestamp", "id")
        else:
            events = selectors.events_recent(events)
        return Response(EventOut(events, many=True).data)


class OrderEventsApi(APIView):
    """One order's events, in the order they happened."""

    scopes = {"GET": Scope.READ}

    @extend_schema(responses=EventMessageOut(many=True))
    def get(self, request, pk: int):
        order = get_object_or_404(owned(request, Order.objects.only("pk")), pk=pk)
        return Response(EventOut(selectors.events_of_order(order.pk), many=True).data)


class MyPageApi(APIView):
    """Seed 001's "my page": balance, orders with status and reason, exchanges, in one read of a
    projection kept up to date from the event log and the ledger."""

    scopes = {"GET": Scope.READ}

    @extend_schema(responses=MyPageOut)
    def get(self, request, user_id: str):
        account_check(request, user_id, private=True)
        page = selectors.mypage_get(user_id)
        if page is None:
            raise Http404(f"user {user_id} has no page")
        return Response(MyPageOut(page).data)


class DeadlinesApi(generics.ListAPIView):
    """Every saga attempt's deadline and what became of it. Filter with `?orderId=`, `?holderId=`, `?status=`,
    `?createdAfter=` and `?createdBefore=` (ISO 8601: when the attempt started)."""

    serializer_class = DeadlineOut
    scopes = {"GET": Scope.READ}
    filterset_class = DeadlinesFilter
    queryset = Saga.objects.none()  # the model, for the schema's filters; the rows: get_queryset()

    def get_queryset(self):
        return owned(self.request, selectors.deadlines(), "order__holder_id")


class AnyAcceptNegotiation(DefaultContentNegotiation):
    """An EventSource asks for text/event-stream, which no renderer makes: errors are JSON all the same."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class EventsStreamApi(APIView):
    """Server-sent events: `GET /events/stream[?orderId=N]`. With an order, from its first event;
    without one, from now (an end user names one of their orders). Each message has the event's id
    (so `Last-Event-ID` resumes), its type as the SSE event name, and the JSON of GET /events as
    data. A stream ends after `?seconds=` (1 to 300, default 300); EventSource clients reconnect by
    themselves and resume. Each web process keeps SAGA_SSE_MAX_STREAMS open; one more is answered 503
    with Retry-After by the door (config/door.py), before this view."""

    scopes = {"GET": Scope.READ}
    renderer_classes = [JSONRenderer]
    content_negotiation_class = AnyAcceptNegotiation

    @extend_schema(
        parameters=[StreamQuery, RETRY_AFTER],
        responses={(200, "text/event-stream"): str, 404: ErrorOut, 503: OverloadedOut},
    )
    def get(self, request):
        query = StreamQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        order_id = query.validated_data.get("orderId")
        if order_id is None and request.user.account is not None:
            raise PermissionDenied("An end user follows one of their own orders: ?orderId=N.")
        if order_id is not None:
            order_of(request, order_id)
        return _stream(
            order_id=order_id,
            resume_after=request.headers.get("Last-Event-ID", ""),
            seconds=query.validated_data.get("seconds", STREAM_SECONDS),
        )


def _stream(*, order_id: int | None, resume_after: str, seconds: int) -> StreamingHttpResponse:
    ends_at = time.monotonic() + seconds

    def stream():
        yield "retry: 1000\n\n"
        for event in events_follow(
            order_id=order_id,
            from_beginning=order_id is not None or bool(resume_after),
            keep_going=lambda: time.monotonic() < ends_at,
        ):
            if event is None:
                yield ":\n\n"  # a comment on every quiet poll: a client that left is noticed at once
            elif not (resume_after.isdigit() and event.pk <= int(resume_after)):
                yield f"id: {event.pk}\nevent: {event.event_type}\ndata: {json.dumps(event.as_message())}\n\n"

    response = StreamingHttpResponse(stream(), content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"
    return response
