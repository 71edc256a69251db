import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

app = Celery("config")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# A task named `<service>.<action>` runs on the `<service>` queue.
SERVICE_QUEUES = ("orders", "exchanges", "points", "checkout")
app.conf.task_routes = {f"{queue}.*": {"queue": queue} for queue in SERVICE_QUEUES}
