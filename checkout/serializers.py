from rest_framework import serializers

from config.api import StrictIntegerField

from .models import Saga, SagaEvent


class ParticipantRecordOut(serializers.ModelSerializer):
    """The fields every participant's record shares (see checkout.participant)."""

    orderId = serializers.IntegerField(source="order_id")
    sagaId = serializers.IntegerField(source="saga_id")
    createdAt = serializers.DateTimeField(source="created_at")
    compensatedAt = serializers.DateTimeField(source="compensated_at", allow_null=True)

    class Meta:
        fields = ["id", "orderId", "sagaId", "status", "reason", "createdAt", "compensatedAt"]


class EventOut(serializers.BaseSerializer):
    """`{"eventType", "timestamp" (ms), "orderId", ...}` as the seed's Kafka consumer prints it."""

    def to_representation(self, event: SagaEvent) -> dict:
        return event.as_message()


class EventMessageOut(serializers.Serializer):
    """What every event carries; each event type adds its own fields (see README, "What happens to an order")."""

    eventType = serializers.CharField()
    timestamp = serializers.IntegerField(help_text="Milliseconds since the epoch.")
    orderId = serializers.IntegerField()
    sagaId = serializers.IntegerField(allow_null=True)
    service = serializers.CharField()


STREAM_SECONDS = 300


class StreamQuery(serializers.Serializer):
    orderId = StrictIntegerField(required=False, min_value=1, max_value=2**63 - 1)
    seconds = StrictIntegerField(
        required=False, min_value=1, max_value=STREAM_SECONDS, help_text="How long the stream lasts (default 300)."
    )


class DeadlineOut(serializers.ModelSerializer):
    sagaId = serializers.IntegerField(source="id")
    orderId = serializers.IntegerField(source="order_id")
    deadline = serializers.DateTimeField(source="deadline_at")
    decidedAt = serializers.DateTimeField(source="decided_at", allow_null=True, help_text="Null while PENDING.")
    compensatedAt = serializers.DateTimeField(
        source="compensated_at", allow_null=True, help_text="When every compensation had run; null until then."
    )

    class Meta:
        model = Saga
        fields = ["sagaId", "orderId", "attempt", "deadline", "status", "reason", "decidedAt", "compensatedAt"]


class MyPageOrderOut(serializers.Serializer):
    orderId = serializers.IntegerField()
    status = serializers.CharField()
    reason = serializers.CharField(allow_null=True)
    cost = serializers.IntegerField()
    lines = serializers.ListField(child=serializers.DictField(), help_text="[{currencyId, amount}, ...]")
    attempt = serializers.IntegerField(allow_null=True)


class MyPageExchangeOut(serializers.Serializer):
    orderId = serializers.IntegerField()
    sagaId = serializers.IntegerField()
    status = serializers.CharField()
    point = serializers.IntegerField(allow_null=True)
    lines = serializers.ListField(child=serializers.DictField(), help_text="[{currencyId, amount}, ...]")


class MyPageOut(serializers.Serializer):
    userId = serializers.CharField()
    balance = serializers.IntegerField()
    orders = MyPageOrderOut(many=True, help_text="The newest 100, newest first.")
    exchanges = MyPageExchangeOut(many=True, help_text="The newest 100, newest first.")
