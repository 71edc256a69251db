"""Who is calling: a service key, an end user's token, an operator's session, or nobody (ADR 0012).

Each authenticator turns its credentials into a `Caller`, which is what `request.user` is in
the API. Credentials that are present but wrong are a 401, never a fall-through to the next
kind or to the open mode.
"""

from dataclasses import dataclass

from django.core import signing
from rest_framework import authentication
from rest_framework.exceptions import AuthenticationFailed

from .models import END_USER_SCOPES, Scope, ServiceKey
from .tokens import user_token_account


@dataclass(frozen=True)
class Caller:
    kind: str  # "service", "user", "operator" or "open"
    name: str  # who, for throttles and logs: a key's prefix, a userId, a username
    scopes: frozenset[str]
    account: str | None = None  # an end user's own account; None: may act for any account

    is_authenticated = True
    is_anonymous = False

    def owns(self, account_id: str | None) -> bool:
        return self.account is None or self.account == account_id

    @property
    def throttle_key(self) -> str:
        return f"{self.kind}:{self.name}"

    def __str__(self) -> str:
        """Who the browsable API's header says is calling."""
        if self.kind == "open":
            return "open access (local mode: every scope, any account)"
        return f"{self.kind} {self.name}"


# `make run` on a laptop (SAGA_API_MODE=local) and /wdm under SAGA_WDM_OPEN: every scope, any account.
OPEN = Caller(kind="open", name="open", scopes=frozenset(Scope))


def _credentials(request, keyword: str) -> str | None:
    given, _, value = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    if given.lower() != keyword.lower():
        return None
    if not value.strip():
        raise AuthenticationFailed(f"{keyword} credentials are empty.")
    return value.strip()


class ServiceKeyAuthentication(authentication.BaseAuthentication):
    """`Authorization: Api-Key <key>`: one indexed read by the key's prefix and a SHA-512 check."""

    keyword = "Api-Key"

    def authenticate(self, request):
        key = _credentials(request, self.keyword)
        if key is None:
            return None
        try:
            service_key = ServiceKey.objects.get_from_key(key)
        except ServiceKey.DoesNotExist:
            raise AuthenticationFailed("Unknown or revoked API key.") from None
        if service_key.has_expired:
            raise AuthenticationFailed("This API key has expired.")
        caller = Caller(kind="service", name=service_key.prefix, scopes=frozenset(service_key.scopes))
        return caller, service_key

    def authenticate_header(self, request):
        return f'{self.keyword} realm="api"'


class UserTokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer <token>` from POST /auth/tokens: one account, no table read."""

    keyword = "Bearer"

    def authenticate(self, request):
        token = _credentials(request, self.keyword)
        if token is None:
            return None
        try:
            user_id = user_token_account(token)
        except signing.SignatureExpired:
            raise AuthenticationFailed("This token has expired; ask for a new one.") from None
        except signing.BadSignature:
            raise AuthenticationFailed("Invalid token.") from None
        return Caller(kind="user", name=user_id, scopes=END_USER_SCOPES, account=user_id), token


class OperatorSessionAuthentication(authentication.SessionAuthentication):
    """A staff member logged in to the admin, in the browsable API: every scope, with CSRF on writes."""

    def authenticate(self, request):
        user = getattr(request._request, "user", None)
        if not (user and user.is_active and user.is_staff):
            return None
        self.enforce_csrf(request)
        return Caller(kind="operator", name=user.get_username(), scopes=frozenset(Scope)), None
