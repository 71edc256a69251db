from rest_framework import serializers
from rest_framework.fields import iter_options

from config.api import IdField, StrictIntegerField
from exchanges.models import Currency

from .models import Order
from .services import MAX_LINE_AMOUNT, MAX_LINES

CURRENCY_ID = {"min_value": 1, "max_value": 2**31 - 1}
AMOUNT = {"min_value": 1, "max_value": MAX_LINE_AMOUNT}


def _points(count: int) -> str:
    return f"{count} point" if count == 1 else f"{count} points"


class CurrencyIdField(StrictIntegerField):
    """A currency's id, as JSON takes it (an integer; an unknown one is the service's 400, which names it); the
    browsable API's form offers the existing currencies to choose from instead of a number box."""

    def __init__(self, **kwargs):
        super().__init__(label="Currency", style={"base_template": "select.html"}, **CURRENCY_ID, **kwargs)

    def iter_options(self):
        """The form's <option>s, read when the form is drawn (DRF's select.html asks the field for them)."""
        currencies = Currency.objects.order_by("id")
        return iter_options(
            {c.id: f"{c.id} · {c.code} ({_points(c.rate)} a unit, {c.stock} in stock)" for c in currencies}
        )


class OrderLineIn(serializers.Serializer):
    currencyId = CurrencyIdField()
    amount = StrictIntegerField(label="Amount", **AMOUNT)


class OrderPlaceIn(serializers.Serializer):
    """The seed's `{holderId, currencyId, amount}`, or `{holderId, lines: [{currencyId, amount}, ...]}`."""

    holderId = IdField(label="Holder id")
    currencyId = CurrencyIdField(required=False, initial=1, help_text="Defaults to 1.")
    amount = StrictIntegerField(label="Amount", required=False, help_text="Units of the currency.", **AMOUNT)
    # DRF's HTML forms cannot fill a list of objects; the form says how to send several lines instead.
    lines = OrderLineIn(
        many=True,
        label="Lines",
        required=False,
        max_length=MAX_LINES,
        allow_empty=False,
        style={"template": "api/order_lines_fieldset.html"},
    )

    def get_initial(self) -> dict:
        """The browsable API's Raw data form starts from this: the seed's request, without an empty `lines`,
        which would be refused."""
        initial = super().get_initial()
        initial.pop("lines", None)
        return initial

    def validate(self, data: dict) -> dict:
        if "lines" in data:
            if "amount" in data or "currencyId" in data:
                raise serializers.ValidationError("Give either lines, or currencyId and amount, not both.")
            data["lines"] = [(line["currencyId"], line["amount"]) for line in data["lines"]]
        elif "amount" in data:
            data["lines"] = [(data.get("currencyId", 1), data["amount"])]
        else:
            raise serializers.ValidationError({"amount": ["This field is required (or give lines)."]})
        return data


class OrderPlaceFormIn(serializers.Serializer):
    """The schema of an order posted as a form (the browsable API's): one line, since a form cannot nest `lines`."""

    holderId = IdField(label="Holder id")
    currencyId = CurrencyIdField(required=False, initial=1, help_text="Defaults to 1.")
    amount = StrictIntegerField(label="Amount", help_text="Units of the currency.", **AMOUNT)


class OrderOut(serializers.ModelSerializer):
    holderId = serializers.CharField(source="holder_id")
    currencyId = serializers.SerializerMethodField()
    amount = serializers.SerializerMethodField()
    lines = serializers.SerializerMethodField()
    totalCost = serializers.IntegerField(source="total_cost")
    rejectionReason = serializers.SerializerMethodField()
    statusText = serializers.CharField(source="status_text")
    deadline = serializers.DateTimeField(source="deadline_at", allow_null=True, help_text="Null until checked out.")
    createdAt = serializers.DateTimeField(source="created_at")

    class Meta:
        model = Order
        fields = [
            "id",
            "holderId",
            "currencyId",
            "amount",
            "lines",
            "totalCost",
            "status",
            "rejectionReason",
            "statusText",
            "deadline",
            "createdAt",
        ]

    def _single_line(self, order: Order):
        lines = list(order.lines.all())
        return lines[0] if len(lines) == 1 else None

    def get_currencyId(self, order: Order) -> int | None:
        line = self._single_line(order)
        return line.currency_id if line else None

    def get_amount(self, order: Order) -> int | None:
        line = self._single_line(order)
        return line.amount if line else None

    def get_lines(self, order: Order) -> list[dict]:
        return [
            {"currencyId": line.currency_id, "amount": line.amount, "unitPrice": line.unit_price}
            for line in order.lines.all()
        ]

    def get_rejectionReason(self, order: Order) -> str | None:
        return order.rejection_reason or None
