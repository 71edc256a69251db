"""Settings for every environment, read from environment variables.

Local defaults are safe for a laptop; values that only make sense in production
(secret key, allowed hosts) have no default unless DJANGO_DEBUG is on.
"""

import math
from datetime import timedelta
from pathlib import Path

import environ

from config.logs import logging_config
from config.modes import api_mode_default
from config.stack import embedded_database_url, embedded_redis_url

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()

# With DATABASE_URL unset we run on this checkout's embedded services (make run): a laptop.
LOCAL = "DATABASE_URL" not in env
DEBUG = env.bool("DJANGO_DEBUG", default=LOCAL)
SECRET_KEY = env("DJANGO_SECRET_KEY", default="insecure-local-only" if DEBUG else environ.Env.NOTSET)
# With DEBUG on, this machine's own names only: a page on another site whose name it rebinds to
# 127.0.0.1 (DNS rebinding) sends its own name as Host, and gets a 400 instead of the open API.
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "config.apps.SagaAdminConfig",  # django.contrib.admin with the dashboard (config/admin_site.py)
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "django_filters",  # the lists' filters, and their form in the browsable API
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "rest_framework_api_key",
    "orders",
    "points",
    "exchanges",
    "checkout",
    "callers",
]

MIDDLEWARE = [
    "config.access.AccessLogMiddleware",  # first: its duration and status cover every other middleware
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "config.messages.LazyMessageMiddleware",  # Django's, built on first use
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # The admin's base_site and index (the control room), the API's form and doc pages.
        "DIRS": [BASE_DIR / "config" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# Unset, DATABASE_URL / REDIS_URL point at the embedded servers that `make run` started under
# .run/, so that `manage.py` and `celery -A config ...` in this checkout reach the same stack.
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=embedded_database_url() or "postgres://postgres@127.0.0.1:5432/saga")
}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
FORMAT_MODULE_PATH = ["config.formats"]  # the admin's times: 24-hour, to the second

STATIC_URL = "static/"
STATIC_ROOT = env("DJANGO_STATIC_ROOT", default=str(BASE_DIR / "staticfiles"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = DEBUG

REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "config.api.BrowsableAPIRenderer",
    ],
    "DEFAULT_PARSER_CLASSES": [
        "config.api.JSONParser",  # DRF's, deep nesting a 400
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    # Who may call what (ADR 0012): a service key, an end user's token, an operator's session;
    # without any, only in the local mode (or /wdm under SAGA_WDM_OPEN). The first one's scheme
    # is the WWW-Authenticate of a 401.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "callers.authentication.ServiceKeyAuthentication",
        "callers.authentication.UserTokenAuthentication",
        "callers.authentication.OperatorSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["callers.permissions.Scoped"],
    "DEFAULT_THROTTLE_CLASSES": ["callers.throttles.CallerThrottle"],
    "UNAUTHENTICATED_USER": None,
    "EXCEPTION_HANDLER": "config.api.exception_handler",
    "VIEW_NAME_FUNCTION": "config.api.view_name",
    # drf-spectacular's, with the statuses every operation can answer (401, 403, 429, 503, ...): config/schema.py
    "DEFAULT_SCHEMA_CLASS": "config.schema.AutoSchema",
    # django-filter's, on lists only, with an unknown query parameter a 400 naming it (config/api.py)
    "DEFAULT_FILTER_BACKENDS": ["config.api.FilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "config.api.PageNumberPagination",  # DRF's, ASCII page numbers only
    "PAGE_SIZE": 100,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Saga orchestrator API",
    "DESCRIPTION": (
        "Two dialects on one saga. The seed dialect (seed 000: points, orders, exchanges, events) "
        "is JSON and camelCase; the checkout dialect under /wdm (seed 004) takes its values as path "
        "segments and answers a checkout only when its saga attempt is settled."
    ),
    "VERSION": "1.0.0",
    # Swagger UI and ReDoc from our static files: a closed network or a strict proxy still shows them.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Swagger UI would otherwise send the schema's URL to validator.swagger.io for a badge: nothing leaves our host.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SORT_OPERATIONS": "config.docs.operation_order",  # deposit, order, read; /wdm's create before addItem
    "ENUM_NAME_OVERRIDES": {
        "OrderStatusEnum": "orders.models.OrderStatus",
        "SagaStatusEnum": "checkout.models.SagaStatus",
        "ParticipantStatusEnum": "checkout.participant.ParticipantStatus",
        "RejectionReasonEnum": "orders.models.RejectionReason",
    },
}

# --- Who may call what (ADR 0012) --------------------------------------------------------
# `local`: the API answers without credentials. The default only for `make run` on a laptop
# (embedded services, DEBUG on), which binds web and Flower to 127.0.0.1; with another WEB_BIND
# the web and workers refuse to start (callers/checks.py). `protected` (every other default:
# DEBUG off, DATABASE_URL set, another bind): an API key, a user token or an operator's session.
WEB_BIND = env("WEB_BIND", default="127.0.0.1")
SAGA_API_MODE = env("SAGA_API_MODE", default=api_mode_default(embedded=LOCAL, debug=DEBUG, web_bind=WEB_BIND))
# /wdm without credentials, for seed 004's benchmark clients; loopback binds only (config/checks.py).
SAGA_WDM_OPEN = env.bool("SAGA_WDM_OPEN", default=False)
# seed 004's batch_init routes (they overwrite real orders, accounts and prices): 404 unless on.
SAGA_BATCH_INIT = env.bool("SAGA_BATCH_INIT", default=False)
SAGA_USER_TOKEN_SECONDS = env.int("SAGA_USER_TOKEN_SECONDS", default=86400)
# Each caller's share (callers/throttles.py): requests per window, per route class, counted in
# Redis across web processes; a service key, a user, or (open modes) a client address is a caller.
# The defaults sit above what one benchmark client sends on a fast machine (~125 checkouts/s).
SAGA_THROTTLE = env.bool("SAGA_THROTTLE", default=True)
SAGA_THROTTLE_RATES = {
    "place": env("SAGA_THROTTLE_PLACE", default="12000/min"),  # orders:place: orders, items, checkouts
    "money": env("SAGA_THROTTLE_MONEY", default="12000/min"),  # points:move, points:mint
    "read": env("SAGA_THROTTLE_READ", default="60000/min"),
    "manage": env("SAGA_THROTTLE_MANAGE", default="1200/min"),  # stock, batch_init, user tokens
}

# --- Redis and Celery -----------------------------------------------------------------
REDIS_URL = env("REDIS_URL", default=embedded_redis_url() or "redis://127.0.0.1:6379/0")

CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_TASK_IGNORE_RESULT = True  # the database is the saga's record, never the result backend
CELERY_TASK_DEFAULT_QUEUE = "checkout"
# The floor of `manage.py saga_bench`: a bare chain of the saga's shape on the same workers.
CELERY_IMPORTS = ["checkout.floor"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Task events are what Flower lists tasks from (docs/adr/0008-cost-per-saga.md weighs their cost).
CELERY_WORKER_SEND_TASK_EVENTS = env.bool("SAGA_TASK_EVENTS", default=True)
CELERY_TASK_SEND_SENT_EVENT = env.bool("SAGA_TASK_SENT_EVENTS", default=CELERY_WORKER_SEND_TASK_EVENTS)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Celery's fixup would close the database connection around every task; config.celery
# recycles it the way Django does for requests instead.
CELERY_DB_REUSE_MAX = 10**9
# A task that runs too long is stopped (soft: an exception it may handle; hard: the process
# is replaced) and retried or re-driven. checkout/checks.py verifies these fit together.
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=100)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=120)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    # A message not acknowledged within this window is delivered again: it must exceed the
    # longest countdown (the deadline) plus the slowest step (checkout/checks.py, saga.E005).
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=600),
}
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"


def _every(seconds: float, task: str) -> dict:
    """A beat entry whose message expires one interval after it is sent (ADR 0009).

    A worker behind a backlog discards an expired message on receipt instead of running a
    pile of stale sweeps; the next fresh one does the work. `expires` is Celery's option (the
    PersistentScheduler); django-celery-beat's DatabaseScheduler drops it and reads whole
    seconds from `expire_seconds` instead, so both are given (the PersistentScheduler passes
    `expire_seconds` on as a message property that nothing reads).
    """
    return {
        "task": task,
        "schedule": seconds,
        "options": {"expires": seconds, "expire_seconds": max(1, math.ceil(seconds))},
    }


CELERY_BEAT_SCHEDULE = {
    "checkout.sweep_overdue": _every(env.float("SAGA_SWEEP_SECONDS", default=1.0), "checkout.sweep_overdue"),
    "checkout.outbox_relay": _every(env.float("SAGA_OUTBOX_RELAY_SECONDS", default=1.0), "checkout.outbox_relay"),
    "checkout.idempotency_cleanup": _every(3600.0, "checkout.idempotency_cleanup"),
}

# --- The saga --------------------------------------------------------------------------
SAGA_DEADLINE_SECONDS = env.float("SAGA_DEADLINE_SECONDS", default=10.0)
# The per-order transition lock only serializes; the database compare-and-set decides.
SAGA_LOCK_TTL_SECONDS = env.float("SAGA_LOCK_TTL_SECONDS", default=10.0)
SAGA_LOCK_WAIT_SECONDS = env.float("SAGA_LOCK_WAIT_SECONDS", default=5.0)
# How long past its deadline a PENDING saga may stay before the beat sweeper rejects it.
SAGA_SWEEP_GRACE_SECONDS = env.float("SAGA_SWEEP_GRACE_SECONDS", default=1.0)
# A compensation that started and has not finished this many seconds later (then 2x, 3x ...
# for the next runs) is sent again, at most this many times; then it needs an operator.
# One still waiting in a queue is not: only past SAGA_COMPENSATION_LOST_SECONDS (by default the
# broker's visibility timeout) is it taken as lost and sent again, without counting (ADR 0009).
SAGA_COMPENSATION_REDRIVE_SECONDS = env.float("SAGA_COMPENSATION_REDRIVE_SECONDS", default=30.0)
SAGA_COMPENSATION_MAX_REDRIVES = env.int("SAGA_COMPENSATION_MAX_REDRIVES", default=3)
SAGA_COMPENSATION_LOST_SECONDS = env.float(
    "SAGA_COMPENSATION_LOST_SECONDS", default=CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
)
# The outbox relay publishes messages the fast path left unpublished for this long (ADR 0005).
SAGA_OUTBOX_RELAY_AFTER_SECONDS = env.float("SAGA_OUTBOX_RELAY_AFTER_SECONDS", default=2.0)
# Idempotency-Key records are kept this long (a day), then the beat cleanup deletes them.
SAGA_IDEMPOTENCY_KEY_SECONDS = env.float("SAGA_IDEMPOTENCY_KEY_SECONDS", default=86400.0)
# A checkout request waiting for its attempt re-reads it at least this often (ADR 0004) ...
SAGA_WAIT_RECHECK_SECONDS = env.float("SAGA_WAIT_RECHECK_SECONDS", default=2.0)
# ... and gives up (503) this long after the attempt's deadline.
SAGA_WAIT_GRACE_SECONDS = env.float("SAGA_WAIT_GRACE_SECONDS", default=30.0)
# "" (off) or "seed": seed 000's slow currencies 100 and 200.
SAGA_FAULT_PROFILE = env("SAGA_FAULT_PROFILE", default="")

# --- Admission control (ADR 0010) ------------------------------------------------------
# An order or checkout starts an attempt only while fewer than the limit are in flight (503
# with Retry-After otherwise). The limit is measured throughput x the target (unset: a tenth
# of the deadline), shrunk when latency exceeds the target, between MIN and MAX. MIN admits
# seed 004's 100 checkouts in flight before anything is measured.
SAGA_ADMISSION = env.bool("SAGA_ADMISSION", default=True)
SAGA_ADMISSION_TARGET_SECONDS = env.float("SAGA_ADMISSION_TARGET_SECONDS", default=None)
SAGA_ADMISSION_MIN_INFLIGHT = env.int("SAGA_ADMISSION_MIN_INFLIGHT", default=100)
SAGA_ADMISSION_MAX_INFLIGHT = env.int("SAGA_ADMISSION_MAX_INFLIGHT", default=1000)
# The web tier's door (config/door.py): while every request of a web process for 0.5 s waited
# longer than this for a thread, orders and checkouts are turned away (503) before Django; each
# web process keeps this many threads that waiting checkouts may not take, for short requests.
SAGA_WEB_QUEUE_SECONDS = env.float("SAGA_WEB_QUEUE_SECONDS", default=0.5)
SAGA_WEB_RESERVED_THREADS = env.int("SAGA_WEB_RESERVED_THREADS", default=16)
# Event streams (GET /events/stream) each web process keeps open at once; one more is 503. Unset: a
# quarter of its threads (32 of 128), which with the waiting checkouts still leaves the reserved ones.
SAGA_SSE_MAX_STREAMS = env.int("SAGA_SSE_MAX_STREAMS", default=None)

# One JSON object a line (`json`), or a human-readable line (`plain`); see config/logs.py.
LOG_FORMAT = env("LOG_FORMAT", default="json")
LOGGING_CONFIG = "config.logs.configure"
# Celery's own line per task received, succeeded or retried (INFO), and the line that mirrors
# each saga event (the event log holds them all): both off in the production profile, where
# five lines a saga cost ~8% of its CPU (docs/adr/0008-cost-per-saga.md); access lines stay.
SAGA_TASK_LOG_LINES = env.bool("SAGA_TASK_LOG_LINES", default=True)
SAGA_EVENT_LOG_LINES = env.bool("SAGA_EVENT_LOG_LINES", default=True)
LOGGING = logging_config(
    log_format=LOG_FORMAT,
    level=env("DJANGO_LOG_LEVEL", default="INFO"),
    loggers={
        name: {"level": "WARNING"}
        for name, shown in (
            ("celery.worker.strategy", SAGA_TASK_LOG_LINES),
            ("celery.app.trace", SAGA_TASK_LOG_LINES),
            ("checkout.events", SAGA_EVENT_LOG_LINES),
        )
        if not shown
    },
)

# --- Security defaults (issue 10) ----------------------------------------------------------
# What `manage.py check --deploy` asks for is on whenever DEBUG is off, and each is a variable:
# behind a proxy that terminates TLS, set DJANGO_SECURE_PROXY_SSL_HEADER (the header it sets and
# its value, `HTTP_X_FORWARDED_PROTO,https`) or every request looks like plain http and is
# redirected. The probes answer plain http too: a load balancer or a healthcheck calls them there.
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SECURE_PROXY_SSL_HEADER = env.tuple("DJANGO_SECURE_PROXY_SSL_HEADER", default=None)
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=0 if DEBUG else 365 * 24 * 3600)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=not DEBUG)
SESSION_COOKIE_SECURE = env.bool("DJANGO_SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("DJANGO_CSRF_COOKIE_SECURE", default=not DEBUG)

# A body longer than this is a 413 in the API's shape before anything reads it (config/limits.py).
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DJANGO_DATA_UPLOAD_MAX_MEMORY_SIZE", default=2_621_440)  # Django's 2.5 MB
MIDDLEWARE.insert(MIDDLEWARE.index("config.access.AccessLogMiddleware") + 1, "config.limits.BodySizeLimitMiddleware")

# Admin logins (django-axes): after AXES_FAILURE_LIMIT wrong passwords for one username from one
# address, that pair is refused (429) for AXES_COOLOFF_SECONDS, even with the right password; each
# new try meanwhile starts the wait again. Behind a proxy every client has the proxy's address, so
# there the lockout is by username. Its middleware goes last and its backend first, as it asks.
INSTALLED_APPS += ["axes"]
MIDDLEWARE += ["axes.middleware.AxesMiddleware"]
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(seconds=env.float("AXES_COOLOFF_SECONDS", default=900))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True  # the right password before the limit forgets the earlier mistakes
