"""The admin as the saga's control room: the default site, with a dashboard (ADR 0007)."""

from django.contrib import admin
from django.template.response import TemplateResponse
from django.urls import path

# The index in the order of an order's story (placed, its saga, the participants), not alphabetical;
# any other app (the scheduler's, users, lockouts: superusers only) after these.
APP_ORDER = ["orders", "checkout", "points", "exchanges"]
DASHBOARD_REFRESH_MS = 5000  # how often the dashboard fetches its cards again


class SagaAdminSite(admin.AdminSite):
    site_header = "Saga orchestrator"
    site_title = "Saga orchestrator"
    index_title = "Control room"

    def get_app_list(self, request, app_label=None):
        def rank(app: dict) -> tuple[int, str]:
            label = app["app_label"]
            return (APP_ORDER.index(label) if label in APP_ORDER else len(APP_ORDER), app["name"])

        return sorted(super().get_app_list(request, app_label), key=rank)

    def get_urls(self):
        dashboard = path("dashboard/", self.admin_view(self.dashboard_view), name="dashboard")
        return [dashboard, *super().get_urls()]

    def dashboard_view(self, request):
        """Sagas in flight with the time left to their deadline, the last hour's outcomes, what needs a person.

        With `?cards=1`, the cards alone: what the page's script fetches to refresh its figures in place
        (staff only, as the page: admin_view guards both).
        """
        from checkout.selectors import saga_dashboard

        context = {
            **self.each_context(request),
            "title": "Saga dashboard",
            "dashboard": saga_dashboard(),
            "refresh_seconds": DASHBOARD_REFRESH_MS // 1000,
            "refresh_ms": DASHBOARD_REFRESH_MS,
        }
        if request.GET.get("cards") == "1":  # never cached, as every admin page (admin_view)
            return TemplateResponse(request, "admin/saga_dashboard_cards.html", context)
        return TemplateResponse(request, "admin/saga_dashboard.html", context)
