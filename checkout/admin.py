from django.contrib import admin

from config.admin_mixins import ReadOnlyAdminMixin

from .models import Saga, SagaEvent


@admin.register(Saga)
class SagaAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "id",
        "order",
        "attempt",
        "status",
        "reason",
        "version",
        "deadline_at",
        "decided_at",
        "compensated_at",
    ]
    list_filter = ["status", "reason"]
    search_fields = ["=id", "=order__id", "order__holder_id"]
    list_select_related = ["order"]


@admin.register(SagaEvent)
class SagaEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["id", "timestamp", "order", "saga", "service", "event_type"]
    list_filter = ["service", "event_type"]
    search_fields = ["=order__id"]
    list_select_related = ["order"]
