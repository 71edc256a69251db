from django.urls import path

from . import apis

urlpatterns = [
    path("currencies", apis.CurrenciesApi.as_view(), name="currencies"),
    path("exchanges", apis.ExchangesApi.as_view(), name="exchanges"),
]
