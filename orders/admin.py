from django.contrib import admin

from checkout.models import Saga, SagaEvent
from config.admin_mixins import ReadOnlyAdminMixin, ReadOnlyInline

from .models import Order, OrderLine


class OrderLineInline(ReadOnlyInline):
    model = OrderLine
    fields = ["currency", "amount", "unit_price"]
    show_change_link = False


class SagaInline(ReadOnlyInline):
    model = Saga
    fields = ["attempt", "status", "reason", "version", "deadline_at", "decided_at", "compensated_at"]


class EventInline(ReadOnlyInline):
    model = SagaEvent
    fields = ["timestamp", "service", "event_type", "payload"]
    ordering = ["timestamp", "id"]
    verbose_name_plural = "events (in time order)"
    show_change_link = False


@admin.register(Order)
class OrderAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["id", "holder_id", "status", "rejection_reason", "total_cost", "deadline_at", "created_at"]
    list_filter = ["status", "rejection_reason"]
    search_fields = ["=id", "holder_id"]
    date_hierarchy = "created_at"
    inlines = [OrderLineInline, SagaInline, EventInline]


@admin.register(OrderLine)
class OrderLineAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["id", "order", "currency", "amount", "unit_price"]
    list_select_related = ["order"]
