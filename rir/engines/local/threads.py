"""A small per-process thread pool for the parts of one query that can run side by side.

OpenCV releases the GIL, so describing the mirrored query (ORB) runs on a second
core while the calling thread describes the query as is. On a one-core machine
the work runs inline. The pool is made again in a forked child, whose copy of the
parent's pool has no threads.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

__all__ = ["beside"]

T = TypeVar("T")

_MAX_WORKERS = 4  # each query uses one; more serve concurrent queries (rir serve)
_lock = threading.Lock()
_pool: tuple[int, ThreadPoolExecutor] | None = None


def _executor() -> ThreadPoolExecutor | None:
    global _pool
    cores = os.cpu_count() or 1
    if cores < 2:
        return None
    with _lock:
        if _pool is None or _pool[0] != os.getpid():
            _pool = (os.getpid(), ThreadPoolExecutor(
                max_workers=min(_MAX_WORKERS, cores), thread_name_prefix="rir-query"))
        return _pool[1]


def beside(fn: Callable[..., T], *args: Any) -> Future[T]:
    """Start ``fn(*args)`` on another core; call ``.result()`` for its value (or its error)."""
    executor = _executor()
    if executor is not None:
        return executor.submit(fn, *args)
    future: Future[T] = Future()
    try:
        future.set_result(fn(*args))
    except Exception as error:  # noqa: BLE001 - re-raised by .result(), as from the pool
        future.set_exception(error)
    return future
