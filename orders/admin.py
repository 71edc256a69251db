from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef
from django.shortcuts import redirect
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from checkout.admin import STEERING, attention_flag, since_start, steer
from checkout.models import Saga, SagaEvent, SagaStatus
from checkout.templatetags.saga_admin import stamp
from checkout.timeline import TONE_NAMES, order_timeline
from config.admin_mixins import ReadOnlyAdminMixin, ReadOnlyInline, age_filter, can_steer

from .models import Order, OrderLine


class OrderLineInline(ReadOnlyInline):
    model = OrderLine
    fields = ["currency", "amount", "unit_price"]
    show_change_link = False


class SagaInline(ReadOnlyInline):
    model = Saga
    fields = ["attempt", "status", "reason", "version", "started", "deadline", "decided", "undone", "attention"]

    @admin.display(description="started (UTC)")
    def started(self, saga: Saga) -> str:
        return stamp(saga.created_at)

    @admin.display(description="deadline")
    def deadline(self, saga: Saga) -> str:
        return since_start(saga, saga.deadline_at)

    @admin.display(description="decided")
    def decided(self, saga: Saga) -> str:
        return since_start(saga, saga.decided_at)

    @admin.display(description="every step undone")
    def undone(self, saga: Saga) -> str:
        return since_start(saga, saga.compensated_at)

    @admin.display(description="needs attention", empty_value="")
    def attention(self, saga: Saga) -> str:
        return attention_flag(saga.needs_attention)


class EventInline(ReadOnlyInline):
    model = SagaEvent
    fields = ["at", "saga", "service", "event_type", "payload"]
    ordering = ["timestamp", "id"]
    verbose_name_plural = "events (in time order, with their payload)"
    show_change_link = False
    classes = ["collapse"]  # the timeline above tells the story; this is the raw log

    @admin.display(description="at (UTC)")
    def at(self, event: SagaEvent) -> str:
        return stamp(event.timestamp)


@admin.register(Order)
class OrderAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The control room's order page: the attempts' timelines, and the buttons to steer them (ADR 0007)."""

    ordering = ["-id"]  # newest first

    # Short columns that fit a 1400 px window; the deadline and the attempts are on the order's page.
    list_display = ["id", "holder", "outcome", "cost", "created", "attention"]
    list_filter = ["status", "rejection_reason", age_filter("created_at")]
    search_fields = ["=id", "holder_id"]
    search_help_text = "An order id, or a holder (user id)."
    date_hierarchy = "created_at"
    inlines = [OrderLineInline, SagaInline, EventInline]
    actions = ["force_reject"]

    def has_steer_permission(self, request) -> bool:
        return can_steer(request.user)

    def get_queryset(self, request):
        flagged = Saga.objects.filter(order=OuterRef("pk"), needs_attention=True)
        return super().get_queryset(request).annotate(flagged=Exists(flagged))

    @admin.display(description="holder", ordering="holder_id")
    def holder(self, order: Order) -> str:
        return order.holder_id

    @admin.display(description="status", ordering="status")
    def outcome(self, order: Order) -> str:
        return f"{order.status} · {order.rejection_reason}" if order.rejection_reason else order.status

    @admin.display(description="cost", ordering="total_cost")
    def cost(self, order: Order) -> int:
        return order.total_cost

    @admin.display(description="created (UTC)", ordering="created_at")
    def created(self, order: Order) -> str:
        return stamp(order.created_at)

    @admin.display(description="attention", ordering="-flagged", empty_value="")
    def attention(self, order: Order) -> str:
        return attention_flag(order.flagged)

    @admin.action(description="Force reject (orders being checked out; every step is undone)", permissions=["steer"])
    def force_reject(self, request, queryset) -> None:
        pending = Saga.objects.filter(order__in=queryset, status=SagaStatus.PENDING).values_list("pk", flat=True)
        if not pending:
            self.message_user(request, "Nothing to do: no selected order is being checked out.", messages.WARNING)
            return
        steer(request, list(pending), "force_reject")

    def get_urls(self):
        steer_url = path(
            "<path:object_id>/steer/", self.admin_site.admin_view(self.steer_view), name="orders_order_steer"
        )
        return [steer_url, *super().get_urls()]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = extra_context or {}
        if object_id.isdigit():
            timelines, loose_events = order_timeline(int(object_id))
            extra_context |= {
                "timelines": timelines,
                "loose_events": loose_events,
                "tones": list(TONE_NAMES.items()),
                "can_steer": can_steer(request.user),
                "steer_url": reverse("admin:orders_order_steer", args=[object_id]),
            }
        return super().change_view(request, object_id, form_url, extra_context)

    @staticmethod
    @require_POST
    def steer_view(request, object_id: str):
        """The order page's buttons: force reject, retry compensation, for one of the order's attempts."""
        if not can_steer(request.user):
            raise PermissionDenied
        action, saga_id = request.POST.get("action"), request.POST.get("saga", "")
        page = reverse("admin:orders_order_change", args=[object_id])
        if action not in STEERING or not saga_id.isdigit() or not object_id.isdigit():
            messages.error(request, "Unknown action or attempt.")
            return redirect(page)
        if not Saga.objects.filter(pk=int(saga_id), order_id=int(object_id)).exists():
            messages.error(request, f"Attempt {saga_id} is not an attempt of order {object_id}.")
            return redirect(page)
        steer(request, [int(saga_id)], action)
        return redirect(f"{page}#saga-timeline")


@admin.register(OrderLine)
class OrderLineAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["id", "order", "currency", "amount", "unit_price"]
    list_select_related = ["order"]
