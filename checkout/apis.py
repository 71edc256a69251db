from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import generics
from rest_framework.response import Response
from rest_framework.views import APIView

from orders.models import Order

from . import selectors
from .serializers import DeadlineOut, EventMessageOut, EventOut, EventsQuery


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


class DeadlinesApi(generics.ListAPIView):
    """Every saga attempt's deadline and what became of it."""

    serializer_class = DeadlineOut

    def get_queryset(self):
        return selectors.deadlines()
