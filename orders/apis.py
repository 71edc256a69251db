from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.response import Response

from callers.models import Scope
from callers.permissions import account_check, owned
from checkout.idempotency import idempotent
from checkout.services import order_place
from config.api import RETRY_AFTER, OverloadedOut

from .filters import OrdersFilter
from .models import Order
from .serializers import OrderOut, OrderPlaceFormIn, OrderPlaceIn


class OrdersApi(generics.ListCreateAPIView):
    """Orders, newest first. Filter with `?holderId=jjy`, `?status=REJECTED`, `?orderId=`, `?createdAfter=` and
    `?createdBefore=` (ISO 8601). POST `{"holderId", "currencyId", "amount"}` places an order and starts its saga."""

    scopes = {"GET": Scope.READ, "POST": Scope.ORDERS_PLACE}
    filterset_class = OrdersFilter
    queryset = Order.objects.none()  # the model, for the schema's filters; the rows: get_queryset()

    def get_queryset(self):
        return owned(self.request, Order.objects.prefetch_related("lines").order_by("-id"))

    def get_serializer_class(self):
        return OrderPlaceIn if self.request.method == "POST" else OrderOut

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
