from rest_framework import serializers

from checkout.serializers import ParticipantRecordOut
from config.api import IdField, StrictIntegerField

from .models import PointAccount, PointUse

MAX_DEPOSIT = 10**12


class DepositIn(serializers.Serializer):
    userId = IdField(label="User id")
    point = StrictIntegerField(label="Points", min_value=1, max_value=MAX_DEPOSIT, help_text="Points to add.")


class AccountOut(serializers.ModelSerializer):
    userId = serializers.CharField(source="user_id")
    point = serializers.IntegerField(source="balance")

    class Meta:
        model = PointAccount
        fields = ["userId", "point"]


class TransactionOut(ParticipantRecordOut):
    userId = serializers.CharField(source="user_id")
    point = serializers.IntegerField(source="amount")
    balanceAfter = serializers.IntegerField(source="balance_after", allow_null=True)

    class Meta:
        model = PointUse
        fields = [
            *ParticipantRecordOut.Meta.fields[:3],
            "userId",
            "point",
            "balanceAfter",
            *ParticipantRecordOut.Meta.fields[3:],
        ]
