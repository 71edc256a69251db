from checkout.filters import ParticipantRecordFilter
from config.api import IdFilter, ListFilterSet

from .models import PointAccount, PointUse


class PointsFilter(ListFilterSet):
    userId = IdFilter(field_name="user_id", label="User id")

    class Meta:
        model = PointAccount
        fields = []


class TransactionsFilter(ParticipantRecordFilter):
    userId = IdFilter(field_name="user_id", label="User id")

    class Meta:
        model = PointUse
        fields = []
