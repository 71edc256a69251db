from django.urls import path, register_converter

from config.api import IdConverter

from . import apis

register_converter(IdConverter, "user_id")

urlpatterns = [
    path("events", apis.EventsApi.as_view(), name="events"),
    path("events/stream", apis.EventsStreamApi.as_view(), name="events-stream"),
    path("orders/<int:pk>/events", apis.OrderEventsApi.as_view(), name="order-events"),
    path("deadlines", apis.DeadlinesApi.as_view(), name="deadlines"),
    path("my-page/<user_id:user_id>", apis.MyPageApi.as_view(), name="my-page"),
]
