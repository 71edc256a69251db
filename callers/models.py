"""Who may call the API (ADR 0012): service keys with scopes; end users carry signed tokens (callers.tokens)."""

from django.contrib.postgres.fields import ArrayField
from django.db import models
from rest_framework_api_key.models import AbstractAPIKey


class Scope(models.TextChoices):
    """What a service key may do, for any account. An end user's token gets the first three on their own account."""

    ORDERS_PLACE = "orders:place", "orders:place (place orders, add items, check out)"
    POINTS_MOVE = "points:move", "points:move (pay from an account)"
    READ = "read", "read (balances, orders, events, stock)"
    POINTS_MINT = "points:mint", "points:mint (open accounts, deposit points)"
    STOCK_WRITE = "stock:write", "stock:write (create items, change stock)"
    BATCH_INIT = "batch_init", "batch_init (seed 004's bulk overwrite, when SAGA_BATCH_INIT is on)"
    USERS_TOKEN = "users:token", "users:token (mint end-user tokens)"


END_USER_SCOPES = frozenset({Scope.ORDERS_PLACE, Scope.POINTS_MOVE, Scope.READ})


class ServiceKey(AbstractAPIKey):
    """A service client's key: stored hashed (SHA-512, djangorestframework-api-key), shown once, revocable."""

    scopes = ArrayField(models.CharField(max_length=32, choices=Scope.choices), default=list, blank=True)

    class Meta(AbstractAPIKey.Meta):
        verbose_name = "service key"
        verbose_name_plural = "service keys"
