import logging
import os

from celery import Celery
from celery.signals import after_setup_logger, task_postrun, task_prerun, worker_init
from django.db import close_old_connections
from kombu import Exchange, Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

app = Celery("config")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# One queue per service; a task named `<service>.<action>` runs on the `<service>` queue.
SERVICE_QUEUES = ("orders", "exchanges", "points", "checkout")
# Each queue gets its own direct exchange and routing key: a bare Queue(name) would bind
# every queue to the default exchange with one shared key, and each message would land
# in all four queues.
app.conf.task_queues = [Queue(queue, Exchange(queue, type="direct"), routing_key=queue) for queue in SERVICE_QUEUES]
app.conf.task_routes = {f"{queue}.*": {"queue": queue} for queue in SERVICE_QUEUES}


def _deliver_every_task_twice() -> None:
    """Fault profile `duplicate`: every task message is published twice (chaos runs, tests)."""
    send_once = app.amqp.send_task_message

    def send_twice(producer, name, message, **kwargs):
        send_once(producer, name, message, **kwargs)
        return send_once(producer, name, message, **kwargs)

    app.amqp.send_task_message = send_twice


@app.on_after_finalize.connect
def _apply_fault_profile(sender, **kwargs) -> None:
    if "duplicate" in os.environ.get("SAGA_FAULT_PROFILE", "").split(","):
        _deliver_every_task_twice()


# Beat's once-a-second backstops: their log lines only matter when they found work.
BACKSTOP_TASKS = {"checkout.sweep_overdue", "checkout.outbox_relay", "checkout.idempotency_cleanup"}


class QuietSweeps(logging.Filter):
    """Hide the backstops' log lines when they found nothing to do."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, dict) and args.get("name") in BACKSTOP_TASKS:
            return args.get("return_value", "0") != "0"  # "received", and "succeeded: 0", say nothing
        return not (isinstance(args, tuple) and BACKSTOP_TASKS.intersection(args))  # beat's "Sending due task"


@after_setup_logger.connect
def _quiet_sweeps(logger: logging.Logger, **kwargs) -> None:
    for handler in logger.handlers:
        handler.addFilter(QuietSweeps())


@task_prerun.connect
@task_postrun.connect
def _recycle_db_connections(**kwargs) -> None:
    """Keep a worker's database connection across tasks, as Django does across requests.

    Celery's Django fixup closes it around every task unless CELERY_DB_REUSE_MAX is set
    (settings set it very high), which costs a new PostgreSQL backend per task. Instead,
    close it only when Django would: past CONN_MAX_AGE, or broken by an error.
    """
    close_old_connections()


@worker_init.connect
def _check_delivery_settings(**kwargs) -> None:
    """A worker does not start with settings that would lose or duplicate saga messages."""
    from config.checks import fail_on_saga_errors

    fail_on_saga_errors()
