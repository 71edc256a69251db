import json
import time

from django.http import Http404, JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import generics
from rest_framework.response import Response
from rest_framework.views import APIView

from orders.models import Order

from . import selectors
from .follow import events_follow
from .serializers import DeadlineOut, EventMessageOut, EventOut, EventsQuery, MyPageOut


class EventsApi(APIView):
    """The saga event log. `?orderId=N` shows only that order's events (seed 000's monitoring tool);
    without it, the newest 1000 events."""

    @extend_schema(parameters=[EventsQuery], responses=EventMessageOut(many=True))
    def get(self, request):
        query = EventsQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        order_id = query.validated_data.get("orderId")
        events = selectors.events_of_order(order_id) if order_id else selectors.events_recent()
        return Response(EventOut(events, many=True).data)


class OrderEventsApi(APIView):
    """One order's events, in the order they happened."""

    @extend_schema(responses=EventMessageOut(many=True))
    def get(self, request, pk: int):
        order = get_object_or_404(Order, pk=pk)
        return Response(EventOut(selectors.events_of_order(order.pk), many=True).data)


class MyPageApi(APIView):
    """Seed 001's "my page": balance, orders with status and reason, exchanges, in one read of a
    projection kept up to date from the event log and the ledger."""

    @extend_schema(responses=MyPageOut)
    def get(self, request, user_id: str):
        page = selectors.mypage_get(user_id)
        if page is None:
            raise Http404(f"user {user_id} has no page")
        return Response(MyPageOut(page).data)


class DeadlinesApi(generics.ListAPIView):
    """Every saga attempt's deadline and what became of it."""

    serializer_class = DeadlineOut

    def get_queryset(self):
        return selectors.deadlines()


STREAM_SECONDS = 300


def events_stream(request):
    """Server-sent events: `GET /events/stream[?orderId=N]`. With an order, from its first event;
    without one, from now. Each message has the event's id (so `Last-Event-ID` resumes), its type
    as the SSE event name, and the JSON of GET /events as data. A stream ends after `?seconds=`
    (default 300); EventSource clients reconnect by themselves and resume."""
    query = EventsQuery(data=request.GET)
    if not query.is_valid():
        return JsonResponse(query.errors, status=400)
    order_id = query.validated_data.get("orderId")
    resume_after = request.headers.get("Last-Event-ID", "")
    seconds = (
        min(float(request.GET["seconds"]), STREAM_SECONDS)
        if request.GET.get("seconds", "").isdigit()
        else STREAM_SECONDS
    )
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
