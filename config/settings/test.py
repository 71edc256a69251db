import os

os.environ.setdefault("DJANGO_SECRET_KEY", "test-only-not-secret")

from .base import *  # noqa: F403

# A deadline that a busy machine cannot hit: a test whose subject is not the deadline must
# end by its business outcome, however slow the machine. Tests about the deadline set a short
# one of their own (`settings.SAGA_DEADLINE_SECONDS = 3`); the saga's behaviour does not depend
# on the value (the seed's slow currencies sleep deadline + 5 s of their saga).
SAGA_DEADLINE_SECONDS = env.float("SAGA_DEADLINE_SECONDS", default=60.0)  # noqa: F405
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
WHITENOISE_USE_FINDERS = True
MIDDLEWARE = [m for m in MIDDLEWARE if not m.startswith("whitenoise")]  # noqa: F405 - tests serve no static files
# The API as `make run` serves it on a laptop (open); tests of credentials set `protected`.
SAGA_API_MODE = "local"
# The test servers speak plain http, as make run's production profile does (config/stack.py);
# config/tests/test_deploy.py checks the https defaults on the base settings.
SECURE_SSL_REDIRECT = False
SECURE_HSTS_SECONDS = 0
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
