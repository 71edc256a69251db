from rest_framework import generics

from .models import Currency, Exchange
from .serializers import CurrencyOut, ExchangeOut


class CurrenciesApi(generics.ListAPIView):
    """Currencies: `rate` points per unit, `stock` units the exchange holds."""

    queryset = Currency.objects.all()
    serializer_class = CurrencyOut


class ExchangesApi(generics.ListAPIView):
    """Exchanges, one per saga attempt that reached the exchange step: applied, failed, compensated or cancelled."""

    queryset = Exchange.objects.prefetch_related("lines")
    serializer_class = ExchangeOut
