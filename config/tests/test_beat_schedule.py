"""What beat sends: every backstop expires after its own interval, whichever scheduler sends it (ADR 0009)."""

import pytest
from celery.beat import ScheduleEntry, Scheduler
from django_celery_beat.schedulers import ModelEntry

import checkout.tasks  # noqa: F401 - registers the backstops' tasks with the app, as a worker's autodiscovery does
from config.celery import BACKSTOP_TASKS, app


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["checkout.sweep_overdue", "checkout.outbox_relay", "checkout.idempotency_cleanup"])
def test_beat_sends_each_backstop_expiring_after_its_interval_from_either_scheduler(name, settings, monkeypatch):
    # given the entry as make run's DatabaseScheduler and the tests' PersistentScheduler build it
    entry = settings.CELERY_BEAT_SCHEDULE[name]
    database_entry = ModelEntry.from_entry(name, app=app, **entry)
    persistent_entry = ScheduleEntry(name=name, app=app, **entry)
    sent: list[dict] = []
    monkeypatch.setattr(app.tasks[entry["task"]], "apply_async", lambda *args, **options: sent.append(options))
    # when beat sends each
    scheduler = Scheduler(app=app, lazy=True)
    for built in (database_entry, persistent_entry):
        scheduler.apply_async(built, advance=False)
    # then both messages expire one interval after they were sent: behind a backlog they are discarded unrun
    assert [options["expires"] for options in sent] == [entry["schedule"], entry["schedule"]]


def test_what_beat_sends_is_the_backstops_and_only_they_send_no_task_events(settings):
    """Flower lists the saga's tasks, not the once-a-second housekeeping (issue 12; test_flower shows it)."""
    # when
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    silent = {name for name, task in app.tasks.items() if not task.send_events}
    # then
    assert scheduled == silent == BACKSTOP_TASKS
