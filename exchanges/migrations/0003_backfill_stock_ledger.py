from django.db import migrations
from django.db.models import Sum


def open_the_ledger(apps, schema_editor):
    """Currencies that existed before the stock ledger get an opening entry, so that
    stock == what the ledger put in - what applied exchanges hold (saga_audit)."""
    currency_model = apps.get_model("exchanges", "Currency")
    entry_model = apps.get_model("exchanges", "StockEntry")
    line_model = apps.get_model("exchanges", "ExchangeLine")
    for currency in currency_model.objects.all():
        put_in = entry_model.objects.filter(currency=currency).aggregate(total=Sum("amount"))["total"] or 0
        held = (
            line_model.objects.filter(currency=currency, exchange__status="APPLIED").aggregate(total=Sum("amount"))[
                "total"
            ]
            or 0
        )
        missing = currency.stock - (put_in - held)
        if missing:
            entry_model.objects.create(currency=currency, kind="SET", amount=missing)


class Migration(migrations.Migration):
    dependencies = [
        ("exchanges", "0002_items_and_stock_entries"),
    ]

    operations = [migrations.RunPython(open_the_ledger, migrations.RunPython.noop)]
