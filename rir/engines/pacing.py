"""Spacing request starts: at most N per second, across tasks, threads and event loops."""

from __future__ import annotations

import asyncio
import threading
import time

from rir.errors import ConfigurationError

__all__ = ["StartSpacer"]


class StartSpacer:
    """Hands out start times at least ``1 / per_second`` seconds apart (thread-safe)."""

    def __init__(self, per_second: float) -> None:
        if isinstance(per_second, bool) or not isinstance(per_second, (int, float)) \
                or not per_second > 0:
            raise ConfigurationError(f"A rate limit must be a number > 0 per second, got "
                                     f"{per_second!r}.")
        self.interval = 1.0 / float(per_second)
        self._next = 0.0
        self._lock = threading.Lock()

    def reserve(self) -> float:
        """Book the next start; returns how long the caller must wait for it."""
        with self._lock:
            now = time.monotonic()
            start = max(now, self._next)
            self._next = start + self.interval
            return start - now

    async def wait(self) -> None:
        delay = self.reserve()
        if delay > 0:
            await asyncio.sleep(delay)

    def wait_sync(self) -> None:
        delay = self.reserve()
        if delay > 0:
            time.sleep(delay)
