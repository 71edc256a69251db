from rest_framework import serializers

from config.api import IdField, StrictIntegerField

from .models import PointAccount, PointUse

MAX_DEPOSIT = 10**12


class DepositIn(serializers.Serializer):
    userId = IdField()
    point = StrictIntegerField(min_value=1, max_value=MAX_DEPOSIT, help_text="Points to add.")


class AccountOut(serializers.ModelSerializer):
    userId = serializers.CharField(source="user_id")
    point = serializers.IntegerField(source="balance")

    class Meta:
        model = PointAccount
        fields = ["userId", "point"]


class TransactionOut(serializers.ModelSerializer):
    orderId = serializers.IntegerField(source="order_id")
    sagaId = serializers.IntegerField(source="saga_id")
    userId = serializers.CharField(source="user_id")
    point = serializers.IntegerField(source="amount")
    balanceAfter = serializers.IntegerField(source="balance_after")
    createdAt = serializers.DateTimeField(source="created_at")
    compensatedAt = serializers.DateTimeField(source="compensated_at")

    class Meta:
        model = PointUse
        fields = [
            "id",
            "orderId",
            "sagaId",
            "userId",
            "point",
            "balanceAfter",
            "status",
            "reason",
            "createdAt",
            "compensatedAt",
        ]
