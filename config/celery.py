import logging
import os

from celery import Celery
from celery.app.amqp import AMQP
from celery.signals import (
    after_setup_logger,
    after_setup_task_logger,
    celeryd_init,
    task_postrun,
    task_prerun,
    worker_init,
)
from celery.utils.log import get_multiprocessing_logger
from django.conf import settings
from django.db import close_old_connections
from kombu import Exchange, Queue

from config import broker
from config.logs import ContextFilter, log_bind, log_clear, log_formatter

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
broker.install()  # kombu's Redis transport, one client per channel (config/broker.py)

app = Celery("config", amqp="config.celery:QuietBackstopsAMQP")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_configure.connect
def _settings_read_once(sender: Celery, **kwargs) -> None:
    """Copy Celery's settings into its own table once they are loaded.

    Read through `django.conf:settings`, every lookup goes through Django's lazy settings
    object, and Celery looks up half a dozen settings for every message it sends: copied,
    a send costs ~20% less CPU (docs/adr/0008-cost-per-saga.md). Settings are read at start-up
    anyway; changing a CELERY_* setting at run time was never seen by a running worker.
    """
    sender.conf.update({key: sender.conf[key] for key in list(sender.conf.keys())})


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


# Beat's once-a-second backstops: their log lines only matter when they found work, and
# Flower lists none of them (their tasks say send_events=False; ADR 0009, as built).
BACKSTOP_TASKS = {"checkout.sweep_overdue", "checkout.outbox_relay", "checkout.idempotency_cleanup"}


class QuietBackstopsAMQP(AMQP):
    """Celery's publisher, but a backstop's message goes out without a task-sent event, whoever
    publishes it (beat, a shell).

    A task's send_events=False silences what workers send about it; the task-sent event is the
    publisher's, governed by task_send_sent_event alone, and Flower would list each one as a task.
    A class of the app's (`Celery(amqp=...)`), not a patch of `app.amqp` at import: touching
    `app.amqp` loads the Django settings, in every process that imports `config` (make run's
    launcher too, before it has set their environment).
    """

    def _create_task_sender(self):
        send = super()._create_task_sender()

        def send_task_message(producer, name, message, **kwargs):
            if message.sent_event and name in BACKSTOP_TASKS:
                message = message._replace(sent_event=None)
            return send(producer, name, message, **kwargs)

        return send_task_message


class QuietSweeps(logging.Filter):
    """Hide the backstops' log lines when they found nothing to do, or left it to the sweep already running."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, dict) and args.get("name") in BACKSTOP_TASKS:
            # "received", "succeeded: 0" and "succeeded: None" (another sweep held the lock) say nothing
            return args.get("return_value", "0") not in ("0", "None")
        return not (isinstance(args, tuple) and BACKSTOP_TASKS.intersection(args))  # beat's "Sending due task"


class TaskFields(logging.Filter):
    """Name the task on Celery's own task lines, also those written outside the task (`received`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, dict) and "id" in args and "name" in args:
            record.__dict__.setdefault("taskId", args["id"])
            record.__dict__.setdefault("taskName", args["name"])
        return True


def _structured(logger: logging.Logger | None, *extra_filters: logging.Filter) -> None:
    """Give the handlers Celery set up the LOG_FORMAT formatter and the log context (config.logs)."""
    for handler in logger.handlers if logger else ():
        handler.setFormatter(log_formatter(settings.LOG_FORMAT))
        for log_filter in (*extra_filters, TaskFields(), ContextFilter()):
            handler.addFilter(log_filter)


@celeryd_init.connect
def _structured_from_the_start(**kwargs) -> None:
    """Apply LOGGING before Celery's own set-up: the worker warns about running as root before that."""
    from django.utils.log import configure_logging

    configure_logging(settings.LOGGING_CONFIG, settings.LOGGING)  # as django.setup() does


# Celery (worker and beat) replaces the root logger's handlers with its own text ones
# (worker_hijack_root_logger) after Django configured LOGGING; these make them structured
# again, and keep Celery's -l level and its redirection of print() to the log.
@after_setup_logger.connect
def _structured_root(logger: logging.Logger, **kwargs) -> None:
    _structured(logger, QuietSweeps())
    _structured(get_multiprocessing_logger())


@after_setup_task_logger.connect
def _structured_task_logger(logger: logging.Logger, **kwargs) -> None:
    _structured(logger)


@task_prerun.connect
def _bind_task(task_id: str, task, args: tuple = (), kwargs: dict | None = None, **rest) -> None:
    """Every saga task takes its attempt's id first; the services bind the order when they load it."""
    log_clear()
    saga_id = args[0] if args else (kwargs or {}).get("saga_id")
    log_bind(taskId=task_id, taskName=task.name, sagaId=saga_id if isinstance(saga_id, int) else None)


@task_postrun.connect
def _unbind_task(**kwargs) -> None:
    log_clear()


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
def _no_health_check_per_task(**kwargs) -> None:
    """A worker does not ping PostgreSQL (SELECT 1) before every task, as the web does before a request.

    A task that meets a broken connection fails with OperationalError or InterfaceError,
    which every saga task retries; the hook above then closes the broken connection, and
    the retry opens a new one. The ping would cost a round trip per task (ADR 0008).
    """
    from django.db import connections

    for alias in connections:
        connections[alias].settings_dict["CONN_HEALTH_CHECKS"] = False
        connections[alias].close()


@worker_init.connect
def _check_delivery_settings(**kwargs) -> None:
    """A worker does not start with settings that would lose or duplicate saga messages."""
    from config.checks import fail_on_saga_errors

    fail_on_saga_errors()
