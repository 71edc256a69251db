from django.contrib import admin

from config.admin_mixins import ReadOnlyAdminMixin, ReadOnlyInline

from .models import Currency, Exchange, ExchangeLine


@admin.register(Currency)
class CurrencyAdmin(admin.ModelAdmin):
    list_display = ["id", "code", "rate", "stock"]
    search_fields = ["code"]


class ExchangeLineInline(ReadOnlyInline):
    model = ExchangeLine
    show_change_link = False


@admin.register(Exchange)
class ExchangeAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "id",
        "order_id",
        "saga_id",
        "holder_id",
        "cost",
        "status",
        "reason",
        "created_at",
        "compensated_at",
    ]
    list_filter = ["status", "reason"]
    search_fields = ["=order_id", "holder_id"]
    inlines = [ExchangeLineInline]


@admin.register(ExchangeLine)
class ExchangeLineAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["id", "exchange", "currency", "amount"]
