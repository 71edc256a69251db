"""Service keys and end-user tokens from the command line (the admin does the same under Callers)."""

import re
from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from callers.models import Scope, ServiceKey
from callers.tokens import user_token_mint
from config.api import ID_HELP, ID_PATTERN


class Command(BaseCommand):
    help = "Create, list or revoke service API keys; mint an end user's token."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True)
        create = actions.add_parser("create", help="a new key, printed once")
        create.add_argument("name")
        create.add_argument(
            "--scope", action="append", choices=Scope.values, required=True, help="repeat for several scopes"
        )
        create.add_argument("--days", type=int, help="expires after this many days (default: never)")
        actions.add_parser("list", help="every key: prefix, name, scopes, state")
        revoke = actions.add_parser("revoke", help="revoke a key by its prefix (cannot be undone)")
        revoke.add_argument("prefix")
        token = actions.add_parser("token", help="a token for one end user (Authorization: Bearer ...)")
        token.add_argument("user_id")

    def handle(self, *args, action, **options):
        getattr(self, f"_{action}")(**options)

    def _create(self, *, name, scope, days, **_):
        expiry = timezone.now() + timedelta(days=days) if days else None
        _, key = ServiceKey.objects.create_key(name=name, scopes=sorted(set(scope)), expiry_date=expiry)
        self.stderr.write(
            f"Key {name!r} with scopes {', '.join(sorted(set(scope)))}; store it now, it is not shown again:"
        )
        self.stdout.write(key)

    def _list(self, **_):
        for key in ServiceKey.objects.order_by("created"):
            state = "revoked" if key.revoked else "expired" if key.has_expired else "active"
            self.stdout.write(f"{key.prefix}  {state:<8}  {key.name}  [{' '.join(key.scopes)}]")

    def _revoke(self, *, prefix, **_):
        if not ServiceKey.objects.filter(prefix=prefix).update(revoked=True):
            raise CommandError(f"No key with prefix {prefix!r} (see: manage.py apikey list).")
        self.stdout.write(f"Revoked {prefix}.")

    def _token(self, *, user_id, **_):
        if not re.fullmatch(ID_PATTERN, user_id):
            raise CommandError(f"{user_id!r} is not a userId ({ID_HELP}).")
        self.stdout.write(user_token_mint(user_id=user_id))
