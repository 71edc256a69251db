from django.shortcuts import get_object_or_404
from rest_framework import generics, status
from rest_framework.response import Response

from checkout.idempotency import idempotent

from .models import PointAccount, PointUse
from .serializers import AccountOut, DepositIn, TransactionOut
from .services import BalanceTooLarge, points_deposit


class PointsApi(generics.ListCreateAPIView):
    """Point accounts. POST `{userId, point}` adds points, opening the account on its first deposit."""

    queryset = PointAccount.objects.all()

    def get_serializer_class(self):
        return DepositIn if self.request.method == "POST" else AccountOut

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

    def get_object(self):
        return get_object_or_404(PointAccount, pk=self.kwargs["user_id"])


class TransactionsApi(generics.ListAPIView):
    """Point uses, one per saga attempt that reached the points step: applied, failed, compensated or cancelled."""

    queryset = PointUse.objects.all()
    serializer_class = TransactionOut
