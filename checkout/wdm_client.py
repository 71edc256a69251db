"""A small HTTP client of the checkout dialect, for the consistency run and the benchmark."""

import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import requests
from requests.adapters import HTTPAdapter


@dataclass
class Answer:
    status: int  # 0: no answer (timeout or connection error)
    body: dict
    seconds: float


class WdmClient:
    def __init__(self, base_url: str, *, timeout: float = 120.0) -> None:
        self.base = base_url.rstrip("/")
        self.timeout = timeout
        self._local = threading.local()

    def _session(self) -> requests.Session:
        """One keep-alive connection per client thread."""
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
            session.mount("http://", HTTPAdapter(pool_connections=1, pool_maxsize=1))
        return session

    def call(self, method: str, path: str) -> Answer:
        started = time.perf_counter()
        try:
            response = self._session().request(method, f"{self.base}/{path}", timeout=self.timeout)
        except requests.RequestException:
            return Answer(0, {}, time.perf_counter() - started)
        try:
            body = response.json()
        except ValueError:
            body = {}
        return Answer(response.status_code, body, time.perf_counter() - started)

    def post(self, path: str) -> Answer:
        return self.call("POST", path)

    def get(self, path: str) -> Answer:
        return self.call("GET", path)

    def profile_warning(self) -> str | None:
        """What in the stack's profile makes its figures differ from production's, if anything (GET /readyz)."""
        root = self.base.rsplit("/wdm", 1)[0]
        try:
            profile = self._session().get(f"{root}/readyz", timeout=10).json().get("profile", {})
        except (requests.RequestException, ValueError):
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
