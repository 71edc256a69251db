"""A small HTTP client of the checkout dialect, for the consistency run and the benchmark."""

import json
import os
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import urllib3
from urllib3.exceptions import HTTPError


@dataclass
class Answer:
    status: int  # 0: no answer (timeout or connection error)
    body: dict
    seconds: float


def api_key_headers(api_key: str | None = None) -> dict[str, str]:
    """The Authorization header of a service key (`api_key`, else SAGA_API_KEY), or none: a stack open to
    this machine (ADR 0012)."""
    api_key = api_key or os.environ.get("SAGA_API_KEY")
    return {"Authorization": f"Api-Key {api_key}"} if api_key else {}


class WdmClient:
    """One keep-alive connection per client thread, on urllib3: a benchmark's client should cost
    little of the CPU it shares with the stack (a call costs ~0.26 ms of CPU here, requests' ~0.66).

    Without credentials, as seed 004's clients (a stack started with SAGA_WDM_OPEN=1, or a local run);
    with SAGA_API_KEY set, it sends that service key (ADR 0012)."""

    def __init__(self, base_url: str, *, timeout: float = 120.0, api_key: str | None = None) -> None:
        self.headers = api_key_headers(api_key)
        self.base = base_url.rstrip("/")
        self._prefix = urllib3.util.parse_url(self.base).path or ""
        self.timeout = timeout
        self._local = threading.local()

    def _pool(self) -> urllib3.HTTPConnectionPool:
        pool = getattr(self._local, "pool", None)
        if pool is None:  # http or https, as the URL says
            pool = self._local.pool = urllib3.connection_from_url(
                self.base, maxsize=1, timeout=self.timeout, retries=False
            )
        return pool

    def call(self, method: str, path: str) -> Answer:
        started = time.perf_counter()
        try:
            response = self._pool().request(method, f"{self._prefix}/{path}", headers=self.headers)
        except HTTPError:
            return Answer(0, {}, time.perf_counter() - started)
        try:
            body = json.loads(response.data)
        except ValueError:
            body = {}
        return Answer(response.status, body, time.perf_counter() - started)

    def post(self, path: str) -> Answer:
        return self.call("POST", path)

    def get(self, path: str) -> Answer:
        return self.call("GET", path)

    def profile_warning(self) -> str | None:
        """What in the stack's profile makes its figures differ from production's, if anything (GET /readyz)."""
        root = self._prefix.rsplit("/wdm", 1)[0]
        try:
            response = self._pool().request("GET", f"{root}/readyz", timeout=10)
            profile = json.loads(response.data).get("profile", {})
        except (HTTPError, ValueError, AttributeError):
            return None
        costs = [
            what for what, on in (("DEBUG", profile.get("debug")), ("task events", profile.get("taskEvents"))) if on
        ]
        if not costs:
            return None
        return (
            f"WARNING: the stack runs with {' and '.join(costs)} on: these figures are not the production"
            " profile's (start it with SAGA_PROFILE=production make run)"
        )

    @staticmethod
    def expect(answer: Answer, what: str) -> dict:
        if answer.status == 401:
            raise RuntimeError(
                f"{what}: HTTP 401 {answer.body}: start the stack with SAGA_WDM_OPEN=1 (this machine only),"
                " or set SAGA_API_KEY to a service key (manage.py apikey create)"
            )
        if not 200 <= answer.status < 300:
            raise RuntimeError(f"{what}: HTTP {answer.status} {answer.body}")
        return answer.body

    @staticmethod
    def in_parallel(calls: Iterable[Callable[[], object]], *, workers: int) -> list:
        """Run the calls with at most `workers` in flight; results in the order of the calls."""
        with ThreadPoolExecutor(max_workers=workers) as pool:
            return list(pool.map(lambda call: call(), calls))


def percentile(sorted_values: list[float], fraction: float) -> float:
    return sorted_values[min(len(sorted_values) - 1, round(fraction * (len(sorted_values) - 1)))]
