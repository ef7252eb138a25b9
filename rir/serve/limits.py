"""Back-pressure: a per-engine concurrency limit with a bounded queue, and a per-key rate limit.

A search holds one of ``slots``; up to ``max_queue`` more wait for one. Past that the
server answers 503 at once with Retry-After (an estimate from recent search times)
instead of letting requests pile up until every client times out.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from rir.serve.error_replies import RequestRateLimitedError, ServerBusyError

__all__ = ["ConcurrencyLimiter", "RateLimiter"]


class ConcurrencyLimiter:
    """At most ``slots`` holders at once and ``max_queue`` waiters; others get ServerBusyError."""

    def __init__(self, name: str, slots: int, max_queue: int) -> None:
        self.name = name
        self.slots = slots
        self.max_queue = max_queue
        self._semaphore = asyncio.Semaphore(slots)
        self._inside = 0  # holding or waiting
        self._recent_s: deque[float] = deque(maxlen=32)

    @property
    def in_use(self) -> int:
        return self._inside

    def retry_after(self) -> float:
        """Seconds until a place is likely free: the queue's length times a typical search."""
        typical = sorted(self._recent_s)[len(self._recent_s) // 2] if self._recent_s else 1.0
        return max(1.0, typical * (1 + self.max_queue / self.slots))

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        if self._inside >= self.slots + self.max_queue:
            raise ServerBusyError(
                f"The '{self.name}' engine is busy: {self.slots} searches are running and "
                f"{self.max_queue} are waiting.", retry_after=self.retry_after())
        self._inside += 1
        try:
            async with self._semaphore:
                started = time.perf_counter()
                try:
                    yield
                finally:
                    self._recent_s.append(time.perf_counter() - started)
        finally:
            self._inside -= 1


class RateLimiter:
    """A token bucket per client: ``per_minute`` requests a minute, bursts up to the same."""

    def __init__(self, per_minute: int, *, max_clients: int = 10_000) -> None:
        self.per_minute = per_minute
        self._buckets: dict[str, tuple[float, float]] = {}
        self._max_clients = max_clients

    def check(self, client: str) -> None:
        """Take one token for ``client`` or raise RequestRateLimitedError."""
        if self.per_minute <= 0:
            return
        now = time.monotonic()
        rate = self.per_minute / 60.0
        tokens, last = self._buckets.get(client, (float(self.per_minute), now))
        tokens = min(float(self.per_minute), tokens + (now - last) * rate)
        if tokens < 1.0:
            self._buckets[client] = (tokens, now)
            raise RequestRateLimitedError(
                f"More than {self.per_minute} requests a minute from this client.",
                retry_after=(1.0 - tokens) / rate)
        if len(self._buckets) >= self._max_clients and client not in self._buckets:
            self._buckets.clear()  # bounded memory: a flood of client ids resets the table
        self._buckets[client] = (tokens - 1.0, now)
