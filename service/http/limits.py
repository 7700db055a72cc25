"""Per-key limits counted in Redis, so N API replicas allow the configured rate and quotas, not N times them.

``RedisRateLimiter`` has ``RateLimiter``'s contract (service/auth.py): ``hit(who)``
records a request and returns None when it is allowed, else the seconds until the
oldest request in the one-minute window leaves it (for Retry-After). The window is
a sorted set per key (``<namespace>:firstseen:rate:<who>``) of request times, trimmed,
counted and added to by one Lua script, so two replicas' requests cannot both take
the last place; the times are Redis's own clock, so the replicas' clocks do not matter.
``limiter_for(settings)`` picks it when ``redis_url`` is set.

The per-key job quota (``max_queued_jobs_per_key``) is counted in the shared database;
``submit_lock_for(settings)`` makes counting and adding a job one step across the
replicas (a Redis lock) instead of within one process (a thread lock).

Redis unreachable: the request is allowed and a warning logged (the limit protects
capacity; an outage of the counter should not take the API down with it).
"""

from __future__ import annotations

import logging
import math
import threading
import uuid
from contextlib import AbstractContextManager
from typing import Any, Protocol

import redis

from service.auth import RateLimiter
from service.settings import Settings

__all__ = ["HitLimiter", "RedisRateLimiter", "limiter_for", "submit_lock_for"]

log = logging.getLogger(__name__)

# KEYS[1] the key's window; ARGV: limit, window in ms, a unique member. Returns 0 or the ms to wait.
_SLIDING_WINDOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) >= limit then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return math.max(1, window - (now - tonumber(oldest[2])))
end
redis.call('ZADD', KEYS[1], now, ARGV[3])
redis.call('PEXPIRE', KEYS[1], window)
return 0
"""


class HitLimiter(Protocol):
    """What the API and the web form ask on every authenticated request."""

    def hit(self, who: object) -> int | None: ...


class RedisRateLimiter:
    """A sliding one-minute window per key, shared by every process using the same Redis and namespace."""

    def __init__(self, settings: Settings, window_s: float = 60.0) -> None:
        if not settings.redis_url:
            raise ValueError("the Redis rate limit needs FIRSTSEEN_REDIS_URL")
        self.per_minute = settings.rate_limit_per_minute
        self.window_ms = int(window_s * 1000)
        self.prefix = f"{settings.redis_namespace}:firstseen:rate:"
        self.client = redis.Redis.from_url(settings.redis_url, socket_timeout=2.0)
        self._script = self.client.register_script(_SLIDING_WINDOW)

    def hit(self, who: object) -> int | None:
        if self.per_minute <= 0:
            return None
        try:
            wait_ms = int(self._script(keys=[f"{self.prefix}{who}"],
                                       args=[self.per_minute, self.window_ms, uuid.uuid4().hex]))
        except redis.RedisError as exc:
            log.warning("rate limit not counted, Redis unreachable: %s", exc)
            return None
        return math.ceil(wait_ms / 1000) if wait_ms else None

    def close(self) -> None:
        self.client.close()


def limiter_for(settings: Settings) -> HitLimiter:
    """Counted in Redis when ``redis_url`` is set (shared by the replicas), else in this process."""
    if settings.redis_url:
        return RedisRateLimiter(settings)
    return RateLimiter(settings.rate_limit_per_minute)


# Longest a replica may hold the submit lock (count a key's jobs, add one): a database round trip or two.
SUBMIT_LOCK_S = 30.0


def submit_lock_for(settings: Settings) -> AbstractContextManager[Any]:
    """One lock for counting a key's jobs and adding one: in Redis across the replicas, else in this process."""
    if not settings.redis_url:
        return threading.Lock()
    client = redis.Redis.from_url(settings.redis_url, socket_timeout=SUBMIT_LOCK_S)
    lock: AbstractContextManager[Any] = client.lock(f"{settings.redis_namespace}:firstseen:submit",
                                                    timeout=SUBMIT_LOCK_S, blocking_timeout=SUBMIT_LOCK_S)
    return lock
