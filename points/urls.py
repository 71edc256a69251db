from django.urls import path, register_converter

from config.api import IdConverter

from . import apis

register_converter(IdConverter, "account_id")

urlpatterns = [
    path("points", apis.PointsApi.as_view(), name="points"),
    path("points/<account_id:user_id>", apis.PointDetailApi.as_view(), name="point-detail"),
    path("transactions", apis.TransactionsApi.as_view(), name="transactions"),
]
