from rest_framework import generics, status
from rest_framework.response import Response

from checkout.idempotency import idempotent
from checkout.services import order_place

from .models import Order
from .serializers import OrderOut, OrderPlaceIn


class OrdersApi(generics.ListCreateAPIView):
    """Orders. POST `{holderId, currencyId, amount}` places an order and starts its saga."""

    queryset = Order.objects.prefetch_related("lines")

    def get_serializer_class(self):
        return OrderPlaceIn if self.request.method == "POST" else OrderOut

    @idempotent
    def create(self, request, *args, **kwargs):
        placed = OrderPlaceIn(data=request.data)
        placed.is_valid(raise_exception=True)
        order = order_place(holder_id=placed.validated_data["holderId"], lines=placed.validated_data["lines"])
        return Response(
            OrderOut(order).data, status=status.HTTP_201_CREATED, headers={"Location": f"/orders/{order.pk}"}
        )


class OrderDetailApi(generics.RetrieveAPIView):
    """One order: status, `statusText` such as `REJECTED DUE TO DEADLINE`, deadline of its current attempt."""

    queryset = Order.objects.prefetch_related("lines")
    serializer_class = OrderOut
