from django.contrib import admin
from django.http import JsonResponse
from django.urls import include, path
from django.views.defaults import page_not_found
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from config import health

ROOT_LINKS = ("points", "orders", "currencies", "exchanges", "transactions", "deadlines", "events", "events-stream")


@extend_schema(exclude=True)
class ApiRootApi(APIView):
    """Seed 000's dialect: JSON, camelCase. Start with `POST /points` (`{"userId": "jjy", "point": 1000}`), then
    `POST /orders` (`{"holderId": "jjy", "currencyId": 1, "amount": 500}`), then read what the saga did: the
    order, its events, the exchanges and transactions. Lists take filters such as `?orderId=`, `?holderId=`,
    `?status=`, `?createdAfter=` (the *Filters* button on each list's page).

    * `my-page`: seed 001's per-user page, `/my-page/{userId}`.
    * `events-stream`: server-sent events, `?orderId=N` to follow one order.
    * `wdm`: seed 004's checkout dialect under `/wdm/` (ids and values as path segments, such as
      `POST /wdm/orders/checkout/{order_id}`), documented in ReDoc.
    * `healthz`, `readyz`: the probes; `schema`, `swagger-ui`, `redoc`: the OpenAPI schema and its two readers;
      `admin` and `dashboard`: the control room (staff).
    """

    name = "Saga orchestrator API"
    permission_classes = [AllowAny]  # links only; every one of them asks for credentials itself

    def get(self, request):
        links = {name: reverse(name, request=request) for name in ROOT_LINKS}
        links["my-page"] = request.build_absolute_uri("/my-page/") + "{userId}"
        links["auth-tokens"] = reverse("auth-tokens", request=request)
        links["wdm"] = reverse("redoc", request=request) + "#tag/wdm"
        for name in ("healthz", "readyz", "schema", "swagger-ui", "redoc"):
            links[name] = reverse(name, request=request)
        links["admin"] = request.build_absolute_uri("/admin/")
        links["dashboard"] = reverse("admin:dashboard", request=request)
        return Response(links)


urlpatterns = [
    path("", ApiRootApi.as_view(), name="api-root"),
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
