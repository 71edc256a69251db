from django.contrib import admin, messages

from config.admin_mixins import ReadOnlyAdminMixin

from .models import IdempotentRequest, OutboxMessage, Saga, SagaEvent
from .services import saga_compensation_retry


@admin.register(Saga)
class SagaAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "id",
        "order",
        "attempt",
        "status",
        "reason",
        "needs_attention",
        "compensation_redrives",
        "deadline_at",
        "decided_at",
        "compensated_at",
    ]
    list_filter = ["status", "reason", "needs_attention"]
    search_fields = ["=id", "=order__id", "order__holder_id"]
    list_select_related = ["order"]
    actions = ["retry_compensation"]

    def has_retry_permission(self, request) -> bool:
        return request.user.is_active and request.user.is_staff

    @admin.action(description="Retry compensation (attempts that need attention)", permissions=["retry"])
    def retry_compensation(self, request, queryset) -> None:
        retried = [
            saga.pk for saga in queryset if saga_compensation_retry(saga_id=saga.pk, by=request.user.get_username())
        ]
        if retried:
            self.message_user(request, f"Compensation sent again for attempt(s) {', '.join(map(str, retried))}.")
        else:
            self.message_user(request, "Nothing to retry: no selected attempt needs attention.", messages.WARNING)


@admin.register(SagaEvent)
class SagaEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["id", "timestamp", "order", "saga", "service", "event_type"]
    list_filter = ["service", "event_type"]
    search_fields = ["=order__id"]
    list_select_related = ["order"]


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["id", "saga", "kind", "created_at", "published_at", "publish_count"]
    list_filter = ["kind", ("published_at", admin.EmptyFieldListFilter)]
    search_fields = ["=saga__id"]


@admin.register(IdempotentRequest)
class IdempotentRequestAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["id", "key", "method", "path", "status_code", "created_at"]
    search_fields = ["key", "path"]
