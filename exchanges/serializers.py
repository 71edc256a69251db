from rest_framework import serializers

from checkout.serializers import ParticipantRecordOut

from .models import Currency, Exchange


class CurrencyOut(serializers.ModelSerializer):
    class Meta:
        model = Currency
        fields = ["id", "code", "rate", "stock"]


class ExchangeOut(ParticipantRecordOut):
    userId = serializers.CharField(source="holder_id")
    point = serializers.IntegerField(source="cost")
    lines = serializers.SerializerMethodField()

    class Meta:
        model = Exchange
        fields = [
            *ParticipantRecordOut.Meta.fields[:3],
            "userId",
            "point",
            "lines",
            *ParticipantRecordOut.Meta.fields[3:],
        ]

    def get_lines(self, exchange: Exchange) -> list[dict]:
        return [{"currencyId": line.currency_id, "amount": line.amount} for line in exchange.lines.all()]
