from django.contrib import admin
from django.http import JsonResponse
from django.urls import include, path
from django.views.defaults import page_not_found
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.reverse import reverse

from config import health

ROOT_LINKS = ("points", "orders", "currencies", "exchanges", "transactions", "deadlines", "events")


@extend_schema(exclude=True)
@api_view(["GET"])
@permission_classes([AllowAny])  # links only; every one of them asks for credentials itself
def api_root(request):
    """The seed-dialect API. Start with POST /points, then POST /orders; admin at /admin/."""
    links = {name: reverse(name, request=request) for name in ROOT_LINKS}
    links["admin"] = request.build_absolute_uri("/admin/")
    links["schema"] = reverse("schema", request=request)
    links["swagger-ui"] = reverse("swagger-ui", request=request)
    links["redoc"] = reverse("redoc", request=request)
    return Response(links)


urlpatterns = [
    path("", api_root, name="api-root"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("admin/", admin.site.urls),
    path("api/schema", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/redoc", SpectacularRedocView.as_view(url_name="schema", template_name="api/redoc.html"), name="redoc"),
    path("", include("points.urls")),
    path("", include("orders.urls")),
    path("", include("exchanges.urls")),
    path("", include("checkout.urls")),
    path("", include("callers.urls")),
    path("wdm/", include("checkout.wdm_urls")),
]


def not_found(request, exception=None):
    """A JSON 404 for the API, in each dialect's shape; the admin keeps its HTML page. (DEBUG shows Django's page.)"""
    if request.path.startswith("/admin/"):
        return page_not_found(request, exception)
    if request.path.startswith("/wdm/"):  # that dialect's error shape (checkout/wdm.py)
        return JsonResponse({"error": "NOT_FOUND", "detail": "Not found."}, status=404)
    return JsonResponse({"detail": "Not found."}, status=404)


handler404 = not_found
