from django.urls import path

from . import apis

urlpatterns = [
    path("points", apis.PointsApi.as_view(), name="points"),
    path("points/<str:user_id>", apis.PointDetailApi.as_view(), name="point-detail"),
    path("transactions", apis.TransactionsApi.as_view(), name="transactions"),
]
