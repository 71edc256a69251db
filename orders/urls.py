from django.urls import path

from . import apis

urlpatterns = [
    path("orders", apis.OrdersApi.as_view(), name="orders"),
    path("orders/<int:pk>", apis.OrderDetailApi.as_view(), name="order-detail"),
]
