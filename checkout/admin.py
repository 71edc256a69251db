from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html
from redis.exceptions import RedisError

from config.admin_mixins import ReadOnlyAdminMixin, age_filter, can_steer

from .locks import LockTimeout
from .models import IdempotentRequest, OutboxMessage, Saga, SagaEvent
from .services import saga_compensation_retry, saga_force_reject
from .templatetags.saga_admin import offset, stamp

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


def attention_flag(flagged: bool) -> str:
    """A list's "needs attention" cell: a "yes" stands out, a "no" is left blank (it is not an error)."""
    return format_html('<span class="saga-attention-flag">{}</span>', "⚠ yes") if flagged else ""


def since_start(saga: Saga, moment) -> str:
    """`+0.312 s`: a moment of an attempt, counted from its start."""
    return "" if moment is None else offset(round((moment - saga.created_at).total_seconds() * 1000))


@admin.register(Saga)
class SagaAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    ordering = ["-id"]  # newest first
    # Short columns that fit a 1400 px window: one outcome column, times since the attempt started.
    list_display = [
        "id",
        "order_link",
        "outcome",
        "attention",
        "started",
        "deadline",
        "decided",
        "undone",
    ]
    list_filter = ["status", "reason", "needs_attention", age_filter("created_at")]
    search_fields = ["=id", "=order__id", "order__holder_id"]
    list_select_related = ["order"]
    actions = ["force_reject", "retry_compensation"]

    def has_steer_permission(self, request) -> bool:
        return can_steer(request.user)

    @admin.display(description="order · attempt", ordering="order_id")
    def order_link(self, saga: Saga) -> str:
        url = reverse("admin:orders_order_change", args=[saga.order_id])
        return format_html('<a href="{}#saga-timeline">{}</a> · {}', url, saga.order_id, saga.attempt)

    @admin.display(description="outcome", ordering="status")
    def outcome(self, saga: Saga) -> str:
        return f"{saga.status} · {saga.reason}" if saga.reason else saga.status

    @admin.display(description="attention", ordering="-needs_attention", empty_value="")
    def attention(self, saga: Saga) -> str:
        """A yes stands out; an attempt the sweeper re-drove says so quietly (a no says nothing)."""
        if saga.needs_attention or not saga.compensation_redrives:
            return attention_flag(saga.needs_attention)
        return format_html('<span class="quiet">re-driven {} times</span>', saga.compensation_redrives)

    @admin.display(description="started (UTC)", ordering="created_at")
    def started(self, saga: Saga) -> str:
        return stamp(saga.created_at)

    @admin.display(description="deadline")
    def deadline(self, saga: Saga) -> str:
        return since_start(saga, saga.deadline_at)

    @admin.display(description="decided", ordering="decided_at")
    def decided(self, saga: Saga) -> str:
        return since_start(saga, saga.decided_at)

    @admin.display(description="undone", ordering="compensated_at")
    def undone(self, saga: Saga) -> str:
        return since_start(saga, saga.compensated_at)

    @admin.action(description="Force reject (PENDING attempts; every step is undone)", permissions=["steer"])
    def force_reject(self, request, queryset) -> None:
        steer(request, list(queryset.values_list("pk", flat=True)), "force_reject")

    @admin.action(description="Retry compensation (attempts that need attention)", permissions=["steer"])
    def retry_compensation(self, request, queryset) -> None:
        steer(request, list(queryset.values_list("pk", flat=True)), "retry_compensation")


@admin.register(SagaEvent)
class SagaEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    ordering = ["-id"]  # newest first
    list_display = ["id", "at", "order", "saga", "service", "event_type"]
    list_filter = ["service", "event_type", age_filter("timestamp")]
    search_fields = ["=order__id", "=saga__id", "order__holder_id"]
    list_select_related = ["order"]

    @admin.display(description="at (UTC)", ordering="timestamp")
    def at(self, event: SagaEvent) -> str:
        return stamp(event.timestamp)


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["id", "saga", "kind", "created_at", "published_at", "publish_count"]
    list_filter = ["kind", ("published_at", admin.EmptyFieldListFilter)]
    search_fields = ["=saga__id"]


@admin.register(IdempotentRequest)
class IdempotentRequestAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["id", "key", "method", "path", "status_code", "created_at"]
    search_fields = ["key", "path"]
