"""What a caller may do (ADR 0012): one permission for every API view of both dialects.

A view says which scope each of its methods needs (`scopes = {"GET": Scope.READ, ...}`); a view
that names none is refused to everyone, so a new route is closed until someone decides. Which
account an end user may touch is the view's to check (`account_check`, `owned`), since only the
view knows where the account is (a path segment, a body field, an order's holder).
"""

from urllib.parse import urlsplit

from django.conf import settings
from rest_framework.exceptions import NotAuthenticated, NotFound, PermissionDenied
from rest_framework.permissions import SAFE_METHODS, BasePermission

from .authentication import OPEN, Caller


def open_to(request) -> bool:
    """Whether this request may come without credentials: a local run, or /wdm opened for a benchmark."""
    if settings.SAGA_API_MODE == "local":
        return True
    return settings.SAGA_WDM_OPEN and request.path.startswith("/wdm/")


def _cross_site(request) -> bool:
    """A browser's request from another site's page (a form posted from evil.example to 127.0.0.1)."""
    if request.headers.get("Sec-Fetch-Site") == "cross-site":
        return True
    origin = request.headers.get("Origin")
    if not origin or origin == "null":
        return origin == "null"
    if origin in settings.CSRF_TRUSTED_ORIGINS:
        return False
    return urlsplit(origin).netloc != request.get_host()


def required_scope(view, method: str) -> str | None:
    """The scope `method` needs on `view`; HEAD and OPTIONS need what the view's GET (or else its first
    method) needs. None: the view names none, and no one may call it."""
    scopes = getattr(view, "scopes", {})
    if method in ("HEAD", "OPTIONS"):
        return scopes.get("GET") or next(iter(scopes.values()), None)
    return scopes.get(method)


class Scoped(BasePermission):
    def has_permission(self, request, view) -> bool:
        if not hasattr(view, request.method.lower()):
            return True  # a method the route does not have: DRF answers 405
        caller = request.user
        if not isinstance(caller, Caller):
            if not open_to(request):
                raise NotAuthenticated("Send an API key (Authorization: Api-Key ...) or a user token (Bearer ...).")
            if request.method not in SAFE_METHODS and _cross_site(request):
                # Open mode has no credentials for a browser to forget: refuse what another site's page sends.
                raise PermissionDenied("Cross-site requests are refused.")
            request.user = caller = OPEN
        scope = required_scope(view, request.method)
        if scope is None or scope not in caller.scopes:
            raise PermissionDenied(f"This needs the {scope or 'operator'} scope.")
        return True


def account_check(request, account_id: str | None, *, private: bool = False) -> None:
    """An end user acts only on their own account: another's is 403 (404 where its existence is private)."""
    if not request.user.owns(account_id):
        if private:
            raise NotFound("Not found.")
        raise PermissionDenied("Not your account.")


def owned(request, queryset, field: str = "holder_id"):
    """A list as the caller may see it: an end user's own rows only."""
    account = request.user.account
    return queryset if account is None else queryset.filter(**{field: account})
