"""The lists' query parameters: the saga's (events, deadlines) and what every participant's records share."""

from django.shortcuts import get_object_or_404
from django_filters import rest_framework as filters

from callers.permissions import owned
from config.api import DateTimeFilter, IdFilter, IntegerFilter, ListFilterSet
from orders.models import Order

from .models import Saga, SagaEvent, SagaStatus
from .participant import ParticipantStatus


def order_of(request, order_id: int) -> int:
    """`?orderId=` as the caller may read it: an end user's own order, or 404 (another's is as unknown)."""
    if request.user.account is not None:
        get_object_or_404(owned(request, Order.objects.only("pk")), pk=order_id)
    return order_id


class ParticipantRecordFilter(ListFilterSet):
    """Exchanges and point uses; each adds its `?userId=`."""

    orderId = IntegerFilter(field_name="order_id", label="Order id")
    sagaId = IntegerFilter(field_name="saga_id", label="Saga id")
    status = filters.ChoiceFilter(choices=ParticipantStatus.choices, label="Status")


class EventsFilter(ListFilterSet):
    orderId = IntegerFilter(method="filter_order", label="Order id")
    holderId = IdFilter(field_name="order__holder_id", label="Holder id")
    createdAfter = DateTimeFilter(
        field_name="timestamp", lookup_expr="gte", label="Happened after", help_text="ISO 8601, inclusive."
    )
    createdBefore = DateTimeFilter(
        field_name="timestamp", lookup_expr="lte", label="Happened before", help_text="ISO 8601, inclusive."
    )

    class Meta:
        model = SagaEvent
        fields = []

    def filter_order(self, events, name, order_id: int):
        return events.filter(order_id=order_of(self.request, order_id))


class DeadlinesFilter(ListFilterSet):
    orderId = IntegerFilter(field_name="order_id", label="Order id")
    holderId = IdFilter(field_name="order__holder_id", label="Holder id")
    status = filters.ChoiceFilter(choices=SagaStatus.choices, label="Status")

    class Meta:
        model = Saga
        fields = []
