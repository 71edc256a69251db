from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.response import Response

from callers.models import Scope
from callers.permissions import account_check, owned
from checkout.idempotency import idempotent

from .filters import PointsFilter, TransactionsFilter
from .models import PointAccount, PointUse
from .serializers import AccountOut, DepositIn, TransactionOut
from .services import BalanceTooLarge, points_deposit


class PointsApi(generics.ListCreateAPIView):
    """Point accounts, by user id; `?userId=` finds one, `?createdAfter=` / `?createdBefore=` (ISO 8601) those opened
    then. POST `{"userId", "point"}` adds points, opening the account on its first deposit."""

    scopes = {"GET": Scope.READ, "POST": Scope.POINTS_MINT}
    filterset_class = PointsFilter
    queryset = PointAccount.objects.none()  # the model, for the schema's filters; the rows: get_queryset()

    def get_queryset(self):
        return owned(self.request, PointAccount.objects.all(), "user_id")

    def get_serializer_class(self):
        return DepositIn if self.request.method == "POST" else AccountOut

    @extend_schema(request=DepositIn, responses={201: AccountOut})
    def post(self, request, *args, **kwargs):
        """Add points, opening the account on its first deposit; the answer is the new balance."""
        return super().post(request, *args, **kwargs)

    @idempotent
    def create(self, request, *args, **kwargs):
        deposit = DepositIn(data=request.data)
        deposit.is_valid(raise_exception=True)
        try:
            account = points_deposit(user_id=deposit.validated_data["userId"], amount=deposit.validated_data["point"])
        except BalanceTooLarge as error:
            return Response({"point": [str(error)]}, status=status.HTTP_400_BAD_REQUEST)
        return Response(AccountOut(account).data, status=status.HTTP_201_CREATED)


class PointDetailApi(generics.RetrieveAPIView):
    """One account's balance."""

    serializer_class = AccountOut
    scopes = {"GET": Scope.READ}

    def get_object(self):
        account_check(self.request, self.kwargs["user_id"], private=True)
        return get_object_or_404(PointAccount, pk=self.kwargs["user_id"])


class TransactionsApi(generics.ListAPIView):
    """Point uses, one per saga attempt that reached the points step: applied, failed, compensated or cancelled.
    Filter with `?orderId=`, `?userId=`, `?status=`, `?sagaId=`, `?createdAfter=` and `?createdBefore=` (ISO 8601)."""

    serializer_class = TransactionOut
    scopes = {"GET": Scope.READ}
    filterset_class = TransactionsFilter
    queryset = PointUse.objects.none()  # the model, for the schema's filters; the rows: get_queryset()

    def get_queryset(self):
        return owned(self.request, PointUse.objects.all(), "user_id")
