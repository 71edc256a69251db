from django.urls import path

from . import apis

urlpatterns = [
    path("events", apis.EventsApi.as_view(), name="events"),
    path("events/stream", apis.events_stream, name="events-stream"),
    path("orders/<int:pk>/events", apis.OrderEventsApi.as_view(), name="order-events"),
    path("deadlines", apis.DeadlinesApi.as_view(), name="deadlines"),
]
