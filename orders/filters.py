from django_filters import rest_framework as filters

from config.api import IdFilter, IntegerFilter, ListFilterSet

from .models import Order, OrderStatus


class OrdersFilter(ListFilterSet):
    orderId = IntegerFilter(field_name="id", label="Order id")
    holderId = IdFilter(field_name="holder_id", label="Holder id")
    status = filters.ChoiceFilter(choices=OrderStatus.choices, label="Status")

    class Meta:
        model = Order
        fields = []
