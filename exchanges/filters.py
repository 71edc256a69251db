from checkout.filters import ParticipantRecordFilter
from config.api import IdFilter

from .models import Exchange


class ExchangesFilter(ParticipantRecordFilter):
    userId = IdFilter(field_name="holder_id", label="User id")

    class Meta:
        model = Exchange
        fields = []
