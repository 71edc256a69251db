import logging
import os

from celery import Celery
from celery.signals import after_setup_logger
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

app = Celery("config")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# One queue per service; a task named `<service>.<action>` runs on the `<service>` queue.
SERVICE_QUEUES = ("orders", "exchanges", "points", "checkout")
app.conf.task_queues = [Queue(queue) for queue in SERVICE_QUEUES]
app.conf.task_routes = {f"{queue}.*": {"queue": queue} for queue in SERVICE_QUEUES}

SWEEP_TASK = "checkout.sweep_overdue"


class QuietSweeps(logging.Filter):
    """Hide the once-a-second sweeper's log lines when it found nothing overdue."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, dict) and args.get("name") == SWEEP_TASK:
            return args.get("return_value", "0") != "0"  # "received", and "succeeded: 0", say nothing
        return not (isinstance(args, tuple) and SWEEP_TASK in args)  # beat's "Sending due task"


@after_setup_logger.connect
def _quiet_sweeps(logger: logging.Logger, **kwargs) -> None:
    for handler in logger.handlers:
        handler.addFilter(QuietSweeps())
