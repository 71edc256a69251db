"""Structured logs: one line per record, carrying the order, attempt, task or request it concerns.

A log context (orderId, sagaId, taskId, taskName, requestId) lives in a ContextVar. The
web middleware (config.access) binds the request id, Celery's task_prerun the task and its
attempt (config.celery), the saga services the order they load; ContextFilter copies it
onto every record a handler emits. LOG_FORMAT picks the formatter: `json` (one JSON object
a line: time, level, logger, message, the context fields that are set, and any `extra=`)
or `plain` (one human-readable line, the context as key=value at the end).

Nothing here imports Django, so gunicorn's master process (config.gunicorn) uses it too.
"""

import logging
import logging.config
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter as _LibraryJsonFormatter

CONTEXT_FIELDS = ("orderId", "sagaId", "taskId", "taskName", "requestId")
FORMATS = ("json", "plain")

# Never mutated in place: each bind sets a new dict, so a reset() restores the old one whole.
_context: ContextVar[dict[str, object] | None] = ContextVar("log_context", default=None)


def log_context() -> dict[str, object]:
    return _context.get() or {}


def _with(fields: dict[str, object]) -> dict[str, object]:
    return {**log_context(), **{key: value for key, value in fields.items() if value is not None}}


def log_bind(**fields: object) -> None:
    """Add fields to the current log context (None leaves a field as it was)."""
    _context.set(_with(fields))


def log_clear() -> None:
    _context.set(None)


@contextmanager
def log_scope(**fields: object) -> Iterator[None]:
    """Bind fields for a block; whatever the block binds is dropped when it ends."""
    token = _context.set(_with(fields))
    try:
        yield
    finally:
        _context.reset(token)


class ContextFilter(logging.Filter):
    """Copy the log context onto the record; a field the call passed in `extra=` wins."""

    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in log_context().items():
            if record.__dict__.get(key) is None:  # Python 3.12+ records carry taskName=None (asyncio's)
                setattr(record, key, value)
        return True


def _utc_time(record: logging.LogRecord) -> str:
    return datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class JsonFormatter(_LibraryJsonFormatter):
    """`{"time", "level", "logger", "message", ...context, ...extra}`, time in UTC to the millisecond."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(
            "%(asctime)s %(levelname)s %(name)s %(message)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            reserved_attrs=[name for name in RESERVED_ATTRS if name not in CONTEXT_FIELDS],
        )

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return _utc_time(record)

    def process_log_record(self, log_data: dict) -> dict:
        return {key: value for key, value in log_data.items() if not (key in CONTEXT_FIELDS and value is None)}


class PlainFormatter(logging.Formatter):
    """`2025-01-01T10:00:00.000Z INFO logger message orderId=1 sagaId=1`, for people who prefer to read text."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return _utc_time(record)

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        fields = {key: record.__dict__.get(key) for key in CONTEXT_FIELDS}
        context = " ".join(f"{key}={value}" for key, value in fields.items() if value is not None)
        if not context:
            return line
        head, newline, traceback = line.partition("\n")  # keep the context on the message's line
        return f"{head} {context}{newline}{traceback}"


def log_formatter(log_format: str) -> logging.Formatter:
    return {"json": JsonFormatter, "plain": PlainFormatter}[_checked(log_format)]()


def _checked(log_format: str) -> str:
    if log_format not in FORMATS:
        raise ValueError(f"LOG_FORMAT must be one of {', '.join(FORMATS)}, not {log_format!r}")
    return log_format


def logging_config(*, log_format: str, level: str, loggers: dict | None = None) -> dict:
    """A dictConfig: everything goes through one stderr handler on the root, in the chosen format."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"structured": {"()": log_formatter, "log_format": _checked(log_format)}},
        "filters": {"context": {"()": ContextFilter}},
        "handlers": {
            "console": {"class": "logging.StreamHandler", "formatter": "structured", "filters": ["context"]},
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            # Django's default config gives these handlers of their own (plain text to the console
            # under DEBUG); without them their records reach the root's handler like every other.
            "django": {"handlers": [], "level": "INFO", "propagate": True},
            "django.server": {"handlers": [], "level": "INFO", "propagate": True},
            "django.db.backends": {"level": "INFO"},
            **(loggers or {}),
        },
    }


def configure(config: dict) -> None:
    """Django's LOGGING_CONFIG: dictConfig, and Python's warnings become records too (Django no longer does that)."""
    logging.config.dictConfig(config)
    logging.captureWarnings(True)
