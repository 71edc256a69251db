"""Kombu's Redis transport, with one client per channel instead of one per call (ADR 0008).

Kombu's Redis channel builds a new `redis.Redis` for every message it publishes, every
message it delivers and every acknowledgement (`Channel.conn_or_acquire` and
`pipe_or_acquire` call `_create_client`). Building one costs about 0.17 ms of CPU with
redis-py 8 (it fills a fresh table of response callbacks); a saga passes through that some
fifteen times. The client holds no connection of its own, only the channel's connection
pool, so one per channel and pool serves every call; a new pool (after a reconnect) gets
a new client. `install()` (config.celery) makes `redis://` and `rediss://` broker URLs
resolve to it; the URLs, and what Celery and Flower show of them, stay as they are.
"""

import redis as redis_py
from kombu.transport import TRANSPORT_ALIASES, redis


class Channel(redis.Channel):
    _shared_client: redis_py.Redis | None = None

    def _create_client(self, asynchronous: bool = False) -> redis_py.Redis:
        if asynchronous:  # the event loop's own client (BRPOP), already made once per channel
            return super()._create_client(asynchronous=True)
        client = self._shared_client
        if client is None or client.connection_pool is not self.pool:
            client = self._shared_client = super()._create_client()
        return client


class Transport(redis.Transport):
    Channel = Channel


def install() -> None:
    for scheme in ("redis", "rediss"):
        TRANSPORT_ALIASES[scheme] = f"{__name__}:Transport"
