from django.contrib import admin

from config.admin_mixins import ReadOnlyAdminMixin, ReadOnlyInline

from .models import PointAccount, PointEntry, PointUse


class PointEntryInline(ReadOnlyInline):
    model = PointEntry
    fields = ["created_at", "kind", "amount", "saga_id"]
    ordering = ["-id"]
    show_change_link = False


@admin.register(PointAccount)
class PointAccountAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["user_id", "balance", "created_at"]
    search_fields = ["user_id"]
    inlines = [PointEntryInline]


@admin.register(PointUse)
class PointUseAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    ordering = ["-id"]  # newest first
    list_display = ["id", "order_id", "saga_id", "user_id", "amount", "balance_after", "status", "reason", "created_at"]
    list_filter = ["status", "reason"]
    search_fields = ["=order_id", "user_id"]


@admin.register(PointEntry)
class PointEntryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    ordering = ["-id"]  # newest first
    list_display = ["id", "account", "kind", "amount", "saga_id", "created_at"]
    list_filter = ["kind"]
    search_fields = ["account__user_id", "=saga_id"]
