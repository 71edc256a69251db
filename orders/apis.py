from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.response import Response

from callers.models import Scope
from callers.permissions import account_check, owned
from checkout.idempotency import idempotent
from checkout.services import order_place, order_wait
from config.api import PREFER_WAIT, PREFERENCE_APPLIED, RETRY_AFTER, OverloadedOut
from config.prefer import prefer_wait, wait_applied

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
        parameters=[RETRY_AFTER, PREFER_WAIT, PREFERENCE_APPLIED],
    )
    def post(self, request, *args, **kwargs):
        """Place an order; 503 OVERLOADED with Retry-After, and nothing created, when the system is at capacity.

        With `Prefer: wait=N`, the answer is the order once its saga settled, if it does within N seconds.
        """
        response = super().post(request, *args, **kwargs)
        asked = prefer_wait(request.headers.get("Prefer"))
        if asked is None or response.status_code != status.HTTP_201_CREATED:
            return response
        # After create, not in it: the order and its saga's start commit first (with its Idempotency-Key, if
        # any), or the saga would not run while we wait. A replay waits the same way: it answers what the
        # request it repeats answered, once the saga is settled (ADR 0004, "Prefer: wait").
        wait = wait_applied(
            asked, deadline_seconds=settings.SAGA_DEADLINE_SECONDS, grace_seconds=settings.SAGA_WAIT_GRACE_SECONDS
        )
        if wait > 0:
            response.data = OrderOut(order_wait(order_id=response.data["id"], seconds=wait)).data
        response["Preference-Applied"] = f"wait={wait}"
        return response

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
