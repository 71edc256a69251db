"""The start-up checks refuse settings that would lose or duplicate saga messages."""

import pytest
from django.core.checks import run_checks
from django.core.exceptions import ImproperlyConfigured

from config.checks import fail_on_saga_errors


def _ids() -> list[str]:
    return [message.id for message in run_checks(tags=["saga"])]


def test_the_shipped_settings_pass():
    assert _ids() == []
    fail_on_saga_errors()


@pytest.mark.parametrize(
    ("setting", "value", "error"),
    [
        ("CELERY_TASK_ACKS_LATE", False, "saga.E001"),
        ("CELERY_TASK_REJECT_ON_WORKER_LOST", False, "saga.E002"),
        ("CELERY_WORKER_PREFETCH_MULTIPLIER", 4, "saga.E003"),
        ("CELERY_TASK_SOFT_TIME_LIMIT", 200, "saga.E004"),
        ("CELERY_TASK_TIME_LIMIT", None, "saga.E004"),
        ("CELERY_BROKER_TRANSPORT_OPTIONS", {"visibility_timeout": 60}, "saga.E005"),
        ("SAGA_DEADLINE_SECONDS", 600, "saga.E005"),
        ("SAGA_LOCK_TTL_SECONDS", 1, "saga.E006"),
    ],
)
def test_an_unsafe_setting_is_an_error_and_stops_the_process(settings, setting, value, error):
    # given
    setattr(settings, setting, value)
    # then
    assert _ids() == [error]
    with pytest.raises(ImproperlyConfigured, match=error):
        fail_on_saga_errors()


@pytest.mark.parametrize(
    ("min_inflight", "max_inflight", "target"), [(0, 1000, None), (200, 100, None), (100, 1000, -1.0)]
)
def test_an_admission_budget_out_of_bounds_is_an_error(settings, min_inflight, max_inflight, target):
    # given
    settings.SAGA_ADMISSION_MIN_INFLIGHT, settings.SAGA_ADMISSION_MAX_INFLIGHT = min_inflight, max_inflight
    settings.SAGA_ADMISSION_TARGET_SECONDS = target
    # then
    assert _ids() == ["saga.E007"]
