from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.response import Response

from callers.models import Scope
from callers.permissions import account_check, owned
from checkout.idempotency import idempotent
from checkout.services import order_place
from config.api import RETRY_AFTER, OverloadedOut

from .models import Order
from .serializers import OrderOut, OrderPlaceFormIn, OrderPlaceIn, OrdersQuery


class OrdersApi(generics.ListCreateAPIView):
    """Orders, newest first, filtered by `?status=` and `?holderId=`. POST `{holderId, currencyId, amount}`
    places an order and starts its saga."""

    scopes = {"GET": Scope.READ, "POST": Scope.ORDERS_PLACE}

    def get_queryset(self):
        orders = owned(self.request, Order.objects.prefetch_related("lines").order_by("-id"))
        if self.request.method != "GET":
            return orders
        query = OrdersQuery(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        if "status" in query.validated_data:
            orders = orders.filter(status=query.validated_data["status"])
        if "holderId" in query.validated_data:
            orders = orders.filter(holder_id=query.validated_data["holderId"])
        return orders

    def get_serializer_class(self):
        return OrderPlaceIn if self.request.method == "POST" else OrderOut

    @extend_schema(parameters=[OrdersQuery])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        request={
            "application/json": OrderPlaceIn,
            "application/x-www-form-urlencoded": OrderPlaceFormIn,
            "multipart/form-data": OrderPlaceFormIn,
        },
        responses={201: OrderOut, 503: OverloadedOut},
        parameters=[RETRY_AFTER],
    )
    def post(self, request, *args, **kwargs):
        """Place an order; 503 OVERLOADED with Retry-After, and nothing created, when the system is at capacity."""
        return super().post(request, *args, **kwargs)

    @idempotent
    def create(self, request, *args, **kwargs):
        placed = OrderPlaceIn(data=request.data)
        placed.is_valid(raise_exception=True)
        account_check(request, placed.validated_data["holderId"])
        order = order_place(holder_id=placed.validated_data["holderId"], lines=placed.validated_data["lines"])
        return Response(
            OrderOut(order).data, status=status.HTTP_201_CREATED, headers={"Location": f"/orders/{order.pk}"}
        )


class OrderDetailApi(generics.RetrieveAPIView):
    """One order: status, `statusText` such as `REJECTED DUE TO DEADLINE`, deadline of its current attempt."""

    serializer_class = OrderOut
    scopes = {"GET": Scope.READ}

    def get_queryset(self):
        return owned(self.request, Order.objects.prefetch_related("lines"))
