import os

os.environ.setdefault("DJANGO_SECRET_KEY", "test-only-not-secret")

from .base import *  # noqa: F403

# Shorter deadlines keep the end-to-end suite quick; the saga's behaviour does not
# depend on the value (the seed's slow currencies sleep deadline + 5 s of their saga).
SAGA_DEADLINE_SECONDS = env.float("SAGA_DEADLINE_SECONDS", default=3.0)  # noqa: F405
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
WHITENOISE_USE_FINDERS = True
MIDDLEWARE = [m for m in MIDDLEWARE if not m.startswith("whitenoise")]  # noqa: F405 - tests serve no static files
