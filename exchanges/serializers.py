from rest_framework import serializers

from .models import Currency, Exchange


class CurrencyOut(serializers.ModelSerializer):
    class Meta:
        model = Currency
        fields = ["id", "code", "rate", "stock"]


class ExchangeOut(serializers.ModelSerializer):
    orderId = serializers.IntegerField(source="order_id")
    sagaId = serializers.IntegerField(source="saga_id")
    userId = serializers.CharField(source="holder_id")
    point = serializers.IntegerField(source="cost")
    lines = serializers.SerializerMethodField()
    createdAt = serializers.DateTimeField(source="created_at")
    compensatedAt = serializers.DateTimeField(source="compensated_at")

    class Meta:
        model = Exchange
        fields = [
            "id",
            "orderId",
            "sagaId",
            "userId",
            "point",
            "lines",
            "status",
            "reason",
            "createdAt",
            "compensatedAt",
        ]

    def get_lines(self, exchange: Exchange) -> list[dict]:
        return [{"currencyId": line.currency_id, "amount": line.amount} for line in exchange.lines.all()]
