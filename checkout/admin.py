from django.contrib import admin, messages
from redis.exceptions import RedisError

from config.admin_mixins import ReadOnlyAdminMixin, age_filter, can_steer

from .locks import LockTimeout
from .models import IdempotentRequest, OutboxMessage, Saga, SagaEvent
from .services import saga_compensation_retry, saga_force_reject

# What an operator can do to attempts (ADR 0007): each calls the saga's own service, and a
# second click finds the state moved on and does nothing.
STEERING = {
    "force_reject": (saga_force_reject, "Rejected (every step is being undone)", "not PENDING any more"),
    "retry_compensation": (saga_compensation_retry, "Compensation sent again", "not waiting for an operator"),
}


def steer(request, saga_ids: list[int], action: str) -> None:
    """Run an operator action on attempts through the saga's services and say what happened, on the page."""
    service, done_text, skipped_text = STEERING[action]
    by = request.user.get_username()
    done, skipped = [], []
    for saga_id in saga_ids:
        try:
            (done if service(saga_id=saga_id, by=by) else skipped).append(saga_id)
        except (RedisError, LockTimeout) as error:  # the transition lock could not be had: nothing changed
            messages.error(request, f"Attempt {saga_id}: not done, try again ({type(error).__name__}: {error}).")
    if done:
        messages.success(request, f"{done_text}: attempt(s) {', '.join(map(str, done))}. Recorded as done by {by}.")
    if skipped:
        messages.warning(
            request, f"Nothing to do for attempt(s) {', '.join(map(str, skipped))}: {skipped_text} (already done?)."
        )


@admin.register(Saga)
class SagaAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    ordering = ["-id"]  # newest first
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
    list_filter = ["status", "reason", "needs_attention", age_filter("created_at")]
    search_fields = ["=id", "=order__id", "order__holder_id"]
    list_select_related = ["order"]
    actions = ["force_reject", "retry_compensation"]

    def has_steer_permission(self, request) -> bool:
        return can_steer(request.user)

    @admin.action(description="Force reject (PENDING attempts; every step is undone)", permissions=["steer"])
    def force_reject(self, request, queryset) -> None:
        steer(request, list(queryset.values_list("pk", flat=True)), "force_reject")

    @admin.action(description="Retry compensation (attempts that need attention)", permissions=["steer"])
    def retry_compensation(self, request, queryset) -> None:
        steer(request, list(queryset.values_list("pk", flat=True)), "retry_compensation")


@admin.register(SagaEvent)
class SagaEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    ordering = ["-id"]  # newest first
    list_display = ["id", "timestamp", "order", "saga", "service", "event_type"]
    list_filter = ["service", "event_type", age_filter("timestamp")]
    search_fields = ["=order__id", "=saga__id", "order__holder_id"]
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
