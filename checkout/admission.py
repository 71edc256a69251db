"""Admission control (ADR 0010): start an attempt only when it can likely finish before its deadline.

Every web process shares one budget in Redis: a sorted set of tickets scored by their expiry.
One Lua script prunes the expired tickets, sizes the limit from what settled lately (Little's
law: in flight = throughput x time in the system) and admits or refuses, in one round trip,
atomically, on Redis' clock. A ticket is named after its attempt inside the attempt's
transaction and released when the attempt settles (notify.settled_announce):

    with admission_acquire() as ticket, transaction.atomic():  # Overloaded: nothing was done
        saga = saga_start(...)
        admission_bind(ticket, saga_id=saga.pk)                 # an exception frees the ticket

What cannot release its ticket (a failed commit, a lost release, a killed process) is pruned
at the ticket's expiry: its admission time + the deadline + SAGA_WAIT_GRACE_SECONDS.
"""

import logging
import math
import time
import uuid
from dataclasses import asdict, dataclass
from functools import cache
from types import SimpleNamespace

from django.conf import settings
from redis.exceptions import RedisError

from config.errors import Overloaded

from .locks import redis_client

__all__ = [
    "AdmissionState",
    "Overloaded",
    "Ticket",
    "admission_acquire",
    "admission_bind",
    "admission_count_refusal",
    "admission_discard",
    "admission_full",
    "admission_release",
    "admission_reset",
    "admission_state",
]

log = logging.getLogger(__name__)

WINDOW_SECONDS = 5  # throughput and latency are measured over the last 5 complete seconds
TARGET_SHARE_OF_DEADLINE = 0.1  # the default target: a tenth of the deadline
KEEP_SECONDS = 60  # per-second buckets of settled attempts are kept this long
REMEMBER_REFUSAL_SECONDS = 0.05  # after Redis refused, this process' door refuses without asking (config/door.py)
SHEDDING_SECONDS = 1.0  # ... and asks Redis itself for this long after; otherwise it leaves the question to acquire
KEYS = [
    "admission:tickets",  # sorted set: ticket -> expiry (Redis time, s)
    "admission:admitted",  # hash: ticket -> admission time
    "admission:settled",  # hash: second -> attempts settled
    "admission:latency",  # hash: second -> sum of their admission-to-settle times (s)
    "admission:sampled",  # hash: second -> how many of them had a ticket (the latency's samples)
    "admission:refused",  # hash: second -> requests refused
    "admission:refused_minutes",  # hash: minute -> requests refused
]

_PRELUDE = """
local tickets, admitted, settled, latency, sampled, refused, refused_minutes =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7]

local function clock()
  local t = redis.call('TIME')
  return tonumber(t[1]) + tonumber(t[2]) / 1000000, tonumber(t[1])
end

local function prune_tickets(now)
  local bound = string.format('%.6f', now)
  local expired = redis.call('ZRANGEBYSCORE', tickets, '-inf', bound)
  for i = 1, #expired, 1000 do
    redis.call('HDEL', admitted, unpack(expired, i, math.min(i + 999, #expired)))
  end
  redis.call('ZREMRANGEBYSCORE', tickets, '-inf', bound)
end

local function sum(key, first, last)
  local fields = {}
  for s = first, last do fields[#fields + 1] = tostring(s) end
  local total = 0
  for _, v in ipairs(redis.call('HMGET', key, unpack(fields))) do
    if v then total = total + tonumber(v) end
  end
  return total
end

local function forget(key, before)
  for _, field in ipairs(redis.call('HKEYS', key)) do
    if tonumber(field) < before then redis.call('HDEL', key, field) end
  end
end

local function count_refusal(second)
  if redis.call('HINCRBY', refused, tostring(second), 1) == 1 then forget(refused, second - 120) end
  local minute = math.floor(second / 60)
  if redis.call('HINCRBY', refused_minutes, tostring(minute), 1) == 1 then forget(refused_minutes, minute - 120) end
end

-- limit = clamp(throughput x target x min(1, target / latency), minimum, maximum)
local function measure(second, window, target, minimum, maximum)
  local throughput = sum(settled, second - window, second - 1) / window
  local samples = sum(sampled, second - window, second - 1)
  local mean_latency = -1
  local limit = throughput * target
  if samples > 0 then
    mean_latency = sum(latency, second - window, second - 1) / samples
    if mean_latency > target then limit = limit * target / mean_latency end
  end
  return math.min(maximum, math.max(minimum, math.floor(limit))), throughput, mean_latency
end
"""

# ARGV: ticket, lifetime, window, target, minimum, maximum
_ACQUIRE = """
local now, second = clock()
prune_tickets(now)
local limit, throughput, mean_latency = measure(
  second, tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6]))
local in_flight = redis.call('ZCARD', tickets)
if in_flight >= limit then
  count_refusal(second)
  return {0, in_flight, limit, tostring(throughput)}
end
redis.call('ZADD', tickets, string.format('%.6f', now + tonumber(ARGV[2])), ARGV[1])
redis.call('HSET', admitted, ARGV[1], string.format('%.6f', now))
return {1, in_flight + 1, limit, tostring(throughput)}
"""

# ARGV: ticket, its new name
_BIND = """
local expiry = redis.call('ZSCORE', tickets, ARGV[1])
if not expiry then return 0 end
local at = redis.call('HGET', admitted, ARGV[1])
redis.call('ZREM', tickets, ARGV[1])
redis.call('HDEL', admitted, ARGV[1])
redis.call('ZADD', tickets, expiry, ARGV[2])
if at then redis.call('HSET', admitted, ARGV[2], at) end
return 1
"""

# ARGV: ticket, channel ('' for none), seconds to keep, message
_RELEASE = """
local now, second = clock()
local at = redis.call('HGET', admitted, ARGV[1])
local released = redis.call('ZREM', tickets, ARGV[1])
redis.call('HDEL', admitted, ARGV[1])
if redis.call('HINCRBY', settled, tostring(second), 1) == 1 then
  local before = second - tonumber(ARGV[3])
  forget(settled, before)
  forget(latency, before)
  forget(sampled, before)
end
if released == 1 and at then
  redis.call('HINCRBYFLOAT', latency, tostring(second), string.format('%.6f', now - tonumber(at)))
  redis.call('HINCRBY', sampled, tostring(second), 1)
end
if ARGV[2] ~= '' then redis.call('PUBLISH', ARGV[2], ARGV[4]) end
return released
"""

# ARGV: ticket
_DISCARD = """
redis.call('HDEL', admitted, ARGV[1])
return redis.call('ZREM', tickets, ARGV[1])
"""

# ARGV: window, target, minimum, maximum. The door's question (config/door.py): is the budget full?
# If so the request is refused and counted, as acquire would; if not, acquire decides later.
_FULL = """
local now, second = clock()
prune_tickets(now)
local limit, throughput = measure(second, tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]))
local in_flight = redis.call('ZCARD', tickets)
if in_flight < limit then return {0, in_flight, limit, tostring(throughput)} end
count_refusal(second)
return {1, in_flight, limit, tostring(throughput)}
"""

# no ARGV: a request turned away before it asked (the door's other reasons)
_REFUSED = """
local _, second = clock()
count_refusal(second)
return 1
"""

# ARGV: window, target, minimum, maximum
_STATE = """
local now, second = clock()
prune_tickets(now)
local window = tonumber(ARGV[1])
local limit, throughput, mean_latency = measure(
  second, window, tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]))
local minute = math.floor(second / 60)
return {
  redis.call('ZCARD', tickets), limit, tostring(throughput), tostring(mean_latency),
  sum(refused, second - 59, second), sum(refused_minutes, minute - 59, minute),
  sum(refused, second - window + 1, second)
}
"""


@cache
def _scripts() -> SimpleNamespace:
    client = redis_client()
    return SimpleNamespace(
        **{
            name: client.register_script(_PRELUDE + body)
            for name, body in {
                "acquire": _ACQUIRE,
                "bind": _BIND,
                "release": _RELEASE,
                "discard": _DISCARD,
                "refused": _REFUSED,
                "full": _FULL,
                "state": _STATE,
            }.items()
        }
    )


def _target_seconds() -> float:
    return settings.SAGA_ADMISSION_TARGET_SECONDS or settings.SAGA_DEADLINE_SECONDS * TARGET_SHARE_OF_DEADLINE


def _lifetime_seconds() -> float:
    """How long a ticket lives unless released: past the deadline and the wait's grace, its attempt is not ours."""
    return settings.SAGA_DEADLINE_SECONDS + settings.SAGA_WAIT_GRACE_SECONDS


def _limits() -> list:
    return [
        WINDOW_SECONDS,
        _target_seconds(),
        settings.SAGA_ADMISSION_MIN_INFLIGHT,
        settings.SAGA_ADMISSION_MAX_INFLIGHT,
    ]


def _retry_after(in_flight: int, throughput: float) -> int:
    """The measured drain time, in_flight / throughput, in whole seconds: at least 1, at most a ticket's lifetime."""
    drain = in_flight / throughput if throughput > 0 else _target_seconds()
    return max(1, min(math.ceil(drain), math.ceil(_lifetime_seconds())))


class Ticket:
    """A place in the in-flight budget. `member` is None when admission is off or Redis could not be asked.

    Used as a context manager, it frees itself if the block raises: whatever the block
    created was rolled back, so its place is not taken.
    """

    def __init__(self, member: str | None) -> None:
        self.member = member

    def __repr__(self) -> str:
        return f"Ticket({self.member!r})"

    def __enter__(self) -> "Ticket":
        return self

    def __exit__(self, exc_type, exc, traceback) -> None:
        if exc_type is not None:
            admission_discard(self)


def admission_acquire() -> Ticket:
    """Take a place for a new attempt, or raise Overloaded with the seconds after which to retry."""
    if not settings.SAGA_ADMISSION:
        return Ticket(None)
    member = f"t:{uuid.uuid4().hex}"
    try:
        admitted, in_flight, limit, throughput = _scripts().acquire(
            keys=KEYS, args=[member, _lifetime_seconds(), *_limits()]
        )
    except RedisError:  # a limiter must not become an outage of its own: admit, untracked (ADR 0010)
        log.warning("admission: Redis could not be asked; admitting without a ticket", exc_info=True)
        return Ticket(None)
    if not admitted:
        raise _refusal(in_flight, limit, throughput)
    return Ticket(member)


_last_refusal: tuple[float, Overloaded] | None = None  # (when, what) Redis last refused in this process
_clock = time.monotonic  # the remembered refusal's clock (tests move it)


def _refusal(in_flight: int, limit: int, throughput: str) -> Overloaded:
    """The Overloaded to raise, remembered for the door (admission_full)."""
    global _last_refusal
    retry_after = _retry_after(in_flight, float(throughput))
    refusal = Overloaded(
        retry_after=retry_after,
        detail=f"At capacity: {in_flight} of {limit} attempts in flight. Retry after {retry_after} s.",
    )
    _last_refusal = (_clock(), refusal)
    return refusal


def admission_full() -> Overloaded | None:
    """The web tier's door: the refusal to answer if the budget is full, else None (admission_acquire decides).

    Past capacity refusals are most of the traffic; asked here, before Django, one costs a
    Redis call and no database read. What Redis said is taken as true for this process for
    REMEMBER_REFUSAL_SECONDS, without asking again: a place freed meanwhile waits for the next
    request, while the attempts in flight keep the workers busy. Counted like acquire's refusals.
    Only while the process sheds (Redis refused it in the last SHEDDING_SECONDS) does the door
    ask; below capacity, admission_acquire's own call is the only one.
    """
    if not settings.SAGA_ADMISSION:
        return None
    remembered = _last_refusal
    age = SHEDDING_SECONDS if remembered is None else _clock() - remembered[0]
    if age >= SHEDDING_SECONDS:
        return None
    if age < REMEMBER_REFUSAL_SECONDS:
        admission_count_refusal()
        return remembered[1]
    try:
        full, in_flight, limit, throughput = _scripts().full(keys=KEYS, args=_limits())
    except RedisError:  # fail open, as admission_acquire does
        log.warning("admission: Redis could not be asked at the door; letting the request in", exc_info=True)
        return None
    return _refusal(in_flight, limit, throughput) if full else None


def admission_bind(ticket: Ticket, *, saga_id: int) -> None:
    """Name the ticket after its attempt, so that the attempt's settling releases it (call before commit)."""
    if ticket.member is None:
        return
    name = f"s:{saga_id}"
    try:
        _scripts().bind(keys=KEYS, args=[ticket.member, name])
    except RedisError:  # the unbound ticket expires by itself
        log.warning("admission: could not bind ticket %s to attempt %s", ticket.member, saga_id, exc_info=True)
        return
    ticket.member = name


def admission_release(saga_id: int, *, channel: str = "", message: str = "") -> bool:
    """The attempt settled: free its place, count it (and its latency), then publish `message` on `channel`.

    One Redis call. Returns whether the attempt still held a ticket.
    """
    return bool(_scripts().release(keys=KEYS, args=[f"s:{saga_id}", channel, KEEP_SECONDS, message]))


def admission_discard(ticket: Ticket) -> None:
    """Free a ticket whose attempt was never created (refused by validation, rolled back): not counted as settled."""
    if ticket.member is None:
        return
    try:
        _scripts().discard(keys=KEYS, args=[ticket.member])
    except RedisError:  # it expires by itself
        log.warning("admission: could not free ticket %s", ticket.member, exc_info=True)


def admission_count_refusal() -> None:
    """Count a request turned away before it asked for a ticket (the web tier's door): the same figures."""
    try:
        _scripts().refused(keys=KEYS)
    except RedisError:  # a count, not a decision
        log.warning("admission: could not count a refusal", exc_info=True)


@dataclass(frozen=True)
class AdmissionState:
    enabled: bool
    limit: int
    in_flight: int  # attempts admitted and not settled
    throughput: float  # attempts settled per second, over the last WINDOW_SECONDS complete seconds
    latency_seconds: float | None  # their mean time from admission to settling (None: no sample)
    target_seconds: float
    refused_last_minute: int
    refused_last_hour: int
    shedding: bool  # the next request would be refused, or one was in the last WINDOW_SECONDS

    def as_json(self) -> dict:
        """camelCase keys, like the rest of /readyz's body (`inFlight`, `refusedLastMinute`)."""
        return {_camel(name): value for name, value in asdict(self).items()}


def _camel(name: str) -> str:
    first, *rest = name.split("_")
    return first + "".join(word.title() for word in rest)


def admission_state() -> AdmissionState:
    """What /readyz and the dashboard show. Raises RedisError if Redis cannot be asked."""
    in_flight, limit, throughput, latency, last_minute, last_hour, recent = _scripts().state(keys=KEYS, args=_limits())
    latency = float(latency)
    return AdmissionState(
        enabled=settings.SAGA_ADMISSION,
        limit=limit,
        in_flight=in_flight,
        throughput=round(float(throughput), 3),
        latency_seconds=round(latency, 3) if latency >= 0 else None,
        target_seconds=round(_target_seconds(), 3),
        refused_last_minute=last_minute,
        refused_last_hour=last_hour,
        shedding=settings.SAGA_ADMISSION and (in_flight >= limit or recent > 0),
    )


def admission_reset() -> None:
    """Forget every ticket and measurement, and this process' remembered refusal (tests; an operator after
    changing the settings)."""
    global _last_refusal
    _last_refusal = None
    redis_client().delete(*KEYS)
