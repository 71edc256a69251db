from rest_framework import generics

from callers.models import Scope
from callers.permissions import owned

from .filters import ExchangesFilter
from .models import Currency, Exchange
from .serializers import CurrencyOut, ExchangeOut


class CurrenciesApi(generics.ListAPIView):
    """Currencies: `rate` points per unit, `stock` units the exchange holds."""

    queryset = Currency.objects.all()
    serializer_class = CurrencyOut
    scopes = {"GET": Scope.READ}


class ExchangesApi(generics.ListAPIView):
    """Exchanges, one per saga attempt that reached the exchange step: applied, failed, compensated or cancelled.
    Filter with `?orderId=`, `?userId=`, `?status=`, `?sagaId=`, `?createdAfter=` and `?createdBefore=` (ISO 8601)."""

    serializer_class = ExchangeOut
    scopes = {"GET": Scope.READ}
    filterset_class = ExchangesFilter
    queryset = Exchange.objects.none()  # the model, for the schema's filters; the rows: get_queryset()

    def get_queryset(self):
        return owned(self.request, Exchange.objects.prefetch_related("lines"))
