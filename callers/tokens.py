"""End-user tokens: a userId signed with the secret key and a time (Django's TimestampSigner).

Checking one reads no table. A token cannot be revoked one by one: it expires after
SAGA_USER_TOKEN_SECONDS (rotating DJANGO_SECRET_KEY revokes them all). Ids never hold ":",
the signer's separator (config.api.ID_CHARACTERS).
"""

from django.conf import settings
from django.core import signing

SALT = "callers.user-token"


def user_token_mint(*, user_id: str) -> str:
    return signing.TimestampSigner(salt=SALT).sign(user_id)


def user_token_account(token: str) -> str:
    """The userId a token was minted for; signing.BadSignature (or SignatureExpired) if it is not valid now."""
    return signing.TimestampSigner(salt=SALT).unsign(token, max_age=settings.SAGA_USER_TOKEN_SECONDS)
