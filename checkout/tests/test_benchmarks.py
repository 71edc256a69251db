"""The benchmark commands run end to end against the test server and worker, and print what they promise.

They measure; these tests only check that they drive real sagas and report them (the
figures themselves are for `make run`, never asserted: this machine may be busy).
"""

import re
from io import StringIO

import pytest
from django.core.management import call_command

from checkout.models import Saga, SagaStatus
from checkout.stackcpu import KINDS, cpu_per_saga

pytestmark = pytest.mark.django_db(transaction=True)


def test_saga_bench_runs_the_floor_and_the_saga_and_prints_their_ratio(live_server, celery_worker, settings):
    # given a deadline no busy machine can reach (the subject is throughput)
    settings.SAGA_DEADLINE_SECONDS = 60
    approved_before = Saga.objects.filter(status=SagaStatus.APPROVED).count()
    # when
    out = StringIO()
    call_command("saga_bench", url=f"{live_server.url}/wdm", clients=2, seconds=2, stdout=out)
    printed = out.getvalue()
    print("\n" + printed)
    # then every run finished sagas, all approved, and the ratios are printed
    runs = re.findall(r"^(floor|saga) (closed x2|open [0-9.]+/s) +(\d+) in", printed, flags=re.MULTILINE)
    assert [(side, kind.split()[0]) for side, kind, _ in runs] == [
        ("floor", "closed"),
        ("saga", "closed"),
        ("floor", "open"),
        ("saga", "open"),
    ]
    assert all(int(done) > 0 for _, _, done in runs)
    assert "other answers" not in printed
    saga_runs = sum(int(done) for side, _, done in runs if side == "saga")
    assert Saga.objects.filter(status=SagaStatus.APPROVED).count() - approved_before == saga_runs
    assert re.search(r"saga / floor: throughput [0-9.]+x; CPU per saga [0-9.]+x; p50 at a quarter", printed)
    assert "CPU ms per saga" in printed


def test_wdm_bench_checks_out_random_orders_and_reports_by_status(live_server, celery_worker, settings, batch_init):
    settings.SAGA_DEADLINE_SECONDS = 60
    out = StringIO()
    call_command(
        "wdm_bench", url=f"{live_server.url}/wdm", n=50, clients=3, seconds=2, wait=0.1, no_503=True, stdout=out
    )
    printed = out.getvalue()
    print("\n" + printed)
    answered = int(re.search(r"^(\d+) checkouts in", printed, flags=re.MULTILINE).group(1))
    assert answered > 0
    by_status = dict(re.findall(r"^  (\d+): (\d+) ", printed, flags=re.MULTILINE))
    assert set(by_status) <= {"200", "400"}  # approved, or refused for stock / credit: never a 5xx
    assert sum(map(int, by_status.values())) == answered
    assert "per 200 answer" in printed


def test_cpu_per_saga_counts_each_process_from_its_own_start():
    # given a process seen twice, one that started in between, one that ended in between
    before = {1: ("web", 10.0), 2: ("points", 3.0), 3: ("orders", 5.0)}
    after = {1: ("web", 10.5), 2: ("points", 3.2), 4: ("points", 0.1)}
    # when
    per_saga = cpu_per_saga(before, after, sagas=10)
    # then milliseconds per saga: web 500/10, points (200 + 100)/10, orders lost its last moments
    assert per_saga["web"] == pytest.approx(50.0)
    assert per_saga["points"] == pytest.approx(30.0)
    assert per_saga["orders"] == 0
    assert per_saga["stack"] == pytest.approx(80.0)
    assert set(KINDS) <= set(per_saga)
