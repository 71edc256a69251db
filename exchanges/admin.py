from django.contrib import admin

from config.admin_mixins import ReadOnlyAdminMixin, ReadOnlyInline

from .models import Currency, Exchange, ExchangeLine, StockEntry
from .services import currency_create, currency_update


@admin.register(Currency)
class CurrencyAdmin(admin.ModelAdmin):
    """Currencies are created and repriced here; stock moves only through the ledgered services."""

    list_display = ["id", "code", "rate", "stock"]
    search_fields = ["=id", "code"]

    def get_readonly_fields(self, request, obj=None):
        return ["stock"] if obj else []

    def save_model(self, request, obj, form, change) -> None:
        if change:
            currency_update(currency_id=obj.pk, code=obj.code, rate=obj.rate)
        else:
            obj.pk = currency_create(code=obj.code, rate=obj.rate, stock=obj.stock).pk

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # order lines and ledgers refer to currencies


@admin.register(StockEntry)
class StockEntryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    ordering = ["-id"]  # newest first
    list_display = ["id", "currency", "kind", "amount", "created_at"]
    list_filter = ["kind"]
    search_fields = ["=currency__id"]


class ExchangeLineInline(ReadOnlyInline):
    model = ExchangeLine
    show_change_link = False


@admin.register(Exchange)
class ExchangeAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    ordering = ["-id"]  # newest first
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
