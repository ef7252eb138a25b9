"""Runtime plumbing: sync twins of async code, per-loop resources, progress bars, extras.

Sync methods (``search``, ``load_image``, ...) run their async twin on one
background event loop owned by this module. That works the same from a plain
script, from worker threads and from Jupyter (whose own loop is already
running, so ``asyncio.run`` would fail there). Engines keep resources that are
bound to an event loop (httpx clients, Playwright browsers) in a
:class:`LoopLocal`, so the background loop and a user's own loop each get
their own.

:class:`ProgressBar` is the progress bar on stderr (count, rate, time left), or nothing,
for every long loop: ``ReverseImageSearch.search_many`` and ``rir index add`` use it; it
is shown only when asked for (callers pass ``enabled=sys.stderr.isatty()`` by default,
so piped output and logs never get bar redraws).

:func:`missing_extra` is the one-line error for an optional dependency that is not
installed, naming the extra that brings it (``pip install 'reverse-image-rag[viz]'``).

:func:`beside` runs the parts of one computation that can go side by side on a small
per-process thread pool: OpenCV and numpy release the GIL, so describing a mirrored
query (ORB), or finding lines in the second direction, runs on a second core while the
calling thread does the first. On a one-core machine the work runs inline. The pool is
made again in a forked child, whose copy of the parent's pool has no threads.

:func:`in_thread` is ``asyncio.to_thread`` for the library's async code, and
:func:`run_inline` runs such code from a sync twin with no event loop at all when it never
waits on the network (loading a local file): its :func:`in_thread` steps then run in the
calling thread. asyncio is imported where it is first needed, not with this module, so
the CLI's synchronous commands (``rir index search``) never load it.
"""

from __future__ import annotations

import atexit
import contextvars
import os
import threading
import weakref
from collections.abc import Awaitable, Callable, Coroutine
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:
    import asyncio

    from rich.progress import Task
    from rich.text import Text

T = TypeVar("T")

__all__ = ["LoopLocal", "ProgressBar", "beside", "in_thread", "missing_extra", "run_inline",
           "run_sync"]


class _BackgroundLoop:
    """A daemon thread running an event loop, started on first use."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    def get(self) -> asyncio.AbstractEventLoop:
        import asyncio

        with self._lock:
            if self._loop is None or self._loop.is_closed():
                loop = asyncio.new_event_loop()
                ready = threading.Event()

                def run() -> None:
                    asyncio.set_event_loop(loop)
                    loop.call_soon(ready.set)
                    try:
                        loop.run_forever()
                    finally:
                        # Stopped by stop() (at exit): close it here, in its own thread, so
                        # no "unclosed event loop" warning is printed as the program ends.
                        try:
                            loop.run_until_complete(loop.shutdown_asyncgens())
                        finally:
                            loop.close()

                thread = threading.Thread(target=run, name="rir-sync-loop", daemon=True)
                thread.start()
                ready.wait()
                self._loop, self._thread = loop, thread
            return self._loop

    def is_current_thread(self) -> bool:
        return self._thread is not None and threading.current_thread() is self._thread

    def stop(self, cleanups: list[Callable[[], Awaitable[Any]]]) -> None:
        """Run the registered async cleanups on the loop, then stop it."""
        with self._lock:
            loop, thread = self._loop, self._thread
            self._loop = self._thread = None
        if loop is None or loop.is_closed():
            return
        if cleanups:
            import asyncio

            async def cleanup_all() -> None:
                await asyncio.gather(*(c() for c in cleanups), return_exceptions=True)

            future = asyncio.run_coroutine_threadsafe(cleanup_all(), loop)
            try:
                future.result(timeout=15)
            except TimeoutError:
                future.cancel()
        loop.call_soon_threadsafe(loop.stop)
        if thread is not None:
            thread.join(timeout=5)


_background = _BackgroundLoop()
_close_at_exit: weakref.WeakSet[Any] = weakref.WeakSet()


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` to completion from synchronous code and return its result.

    Safe with or without a running loop in the calling thread (Jupyter included).
    """
    if _background.is_current_thread():
        coro.close()
        raise RuntimeError(
            "A synchronous reverse-image-rag method was called from inside its own "
            "background loop; await the async twin (asearch, aload_image, ...) instead."
        )
    import asyncio

    future: Future[T] = asyncio.run_coroutine_threadsafe(coro, _background.get())
    try:
        return future.result()
    except KeyboardInterrupt:
        future.cancel()
        raise


_inline: contextvars.ContextVar[bool] = contextvars.ContextVar("rir_inline", default=False)


async def in_thread(function: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """``await asyncio.to_thread(function, *args, **kwargs)``: blocking work (decoding,
    feature extraction, SQLite) off the event loop; under :func:`run_inline`, a plain call.
    Code that a sync twin runs with :func:`run_inline` uses this, not ``asyncio.to_thread``."""
    if _inline.get():
        return function(*args, **kwargs)
    import asyncio

    return await asyncio.to_thread(function, *args, **kwargs)


def run_inline(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` in the calling thread without an event loop: for async code whose only
    waits are :func:`in_thread` steps (which then run inline), such as loading a local file.

    Code that waits on anything else (a network fetch) is a programming error here: it is
    closed and RuntimeError raised; run it with :func:`run_sync`.
    """
    token = _inline.set(True)
    try:
        coro.send(None)
    except StopIteration as done:
        return done.value
    finally:
        _inline.reset(token)
    coro.close()
    raise RuntimeError("run_inline: the coroutine waited on the event loop; use run_sync.")


def close_on_exit(resource: Any) -> None:
    """Have ``await resource.aclose()`` run on the background loop at interpreter exit.

    For objects keeping per-loop resources (a browser, a helper process): what the
    sync API opened on the background loop is closed there. Held weakly, so an
    object collected before exit is simply skipped.
    """
    _close_at_exit.add(resource)


@atexit.register
def _shutdown() -> None:
    _background.stop([resource.aclose for resource in list(_close_at_exit)])


class LoopLocal(Generic[T]):
    """One lazily created resource per running event loop.

    ``await holder.get()`` returns the resource for the current loop, creating it
    with ``factory`` on first use; resources of loops that have been garbage
    collected are dropped. ``aclose_all`` closes every resource with ``closer``.
    """

    def __init__(
        self,
        factory: Callable[[], Awaitable[T]],
        closer: Callable[[T], Awaitable[Any]] | None = None,
    ) -> None:
        self._factory = factory
        self._closer = closer
        self._items: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, T] = (
            weakref.WeakKeyDictionary()
        )
        self._locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )

    async def get(self) -> T:
        import asyncio

        loop = asyncio.get_running_loop()
        item = self._items.get(loop)
        if item is not None:
            return item
        lock = self._locks.setdefault(loop, asyncio.Lock())
        async with lock:
            item = self._items.get(loop)
            if item is None:
                item = await self._factory()
                self._items[loop] = item
            return item

    def current(self) -> T | None:
        """The resource of the running loop, if one was created (no creation)."""
        import asyncio

        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return None
        return self._items.get(loop)

    def discard(self) -> T | None:
        """Forget the current loop's resource (e.g. after it crashed) and return it."""
        import asyncio

        loop = asyncio.get_running_loop()
        return self._items.pop(loop, None)

    async def aclose(self) -> None:
        """Close the current loop's resource; other loops' resources are closed there."""
        item = self.discard()
        if item is not None and self._closer is not None:
            await self._closer(item)

    def loops(self) -> list[asyncio.AbstractEventLoop]:
        return list(self._items.keys())


class ProgressBar:
    """``label``, a bar, done/total, items per second, elapsed and time left.

    ``count_failures=True`` adds "N failed" (fed by ``advance(ok=False)``).
    ``unit`` names the items in the rate ("12.3 images/s").
    """

    def __init__(self, total: int, *, label: str, enabled: bool, unit: str = "items",
                 count_failures: bool = False) -> None:
        self._progress: Any = None
        self._failed = 0
        if not (enabled and total):
            return
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            ProgressColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )
        from rich.text import Text

        class RateColumn(ProgressColumn):
            def render(self, task: Task) -> Text:
                speed = task.finished_speed or task.speed
                return Text("" if speed is None else f"{speed:.1f} {unit}/s")

        columns: list[Any] = [TextColumn(f"[bold]{label}"), BarColumn(), MofNCompleteColumn(),
                              RateColumn()]
        if count_failures:
            columns.append(TextColumn("{task.fields[failed]} failed"))
        columns += [TimeElapsedColumn(), TextColumn("elapsed,"), TimeRemainingColumn(),
                    TextColumn("left")]
        self._progress = Progress(*columns, console=Console(stderr=True), transient=False)
        self._task = self._progress.add_task(label, total=total, failed=0)

    def advance(self, *, ok: bool = True) -> None:
        """One more item done (``ok=False``: it failed)."""
        if self._progress is not None:
            self._failed += 0 if ok else 1
            self._progress.update(self._task, advance=1, failed=self._failed)

    def update(self, done: int, total: int | None = None) -> None:
        """``done`` of ``total`` items finished (the ``progress(done, total)`` callback shape)."""
        if self._progress is not None:
            self._progress.update(self._task, completed=done,
                                  **({} if total is None else {"total": total}))

    def __enter__(self) -> ProgressBar:
        if self._progress is not None:
            self._progress.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._progress is not None:
            self._progress.stop()


def missing_extra(package: str, *, extra: str, feature: str) -> Exception:
    """The error to raise when ``feature`` needs ``package``, which ``extra`` installs."""
    from rir.errors import ConfigurationError

    return ConfigurationError(f"{feature} needs {package}, which is not installed: "
                              f"pip install 'reverse-image-rag[{extra}]'.")


# -- work beside ------------------------------------------------------------------------------

_SIDE_WORKERS = 4  # each computation uses one; more serve concurrent queries (rir serve)
_side_lock = threading.Lock()
_side_pool: tuple[int, ThreadPoolExecutor] | None = None


def _side_executor() -> ThreadPoolExecutor | None:
    global _side_pool
    cores = os.cpu_count() or 1
    if cores < 2:
        return None
    with _side_lock:
        if _side_pool is None or _side_pool[0] != os.getpid():
            _side_pool = (os.getpid(), ThreadPoolExecutor(
                max_workers=min(_SIDE_WORKERS, cores), thread_name_prefix="rir-beside"))
        return _side_pool[1]


def beside(fn: Callable[..., T], *args: Any) -> Future[T]:
    """Start ``fn(*args)`` on another core; call ``.result()`` for its value (or its error)."""
    executor = _side_executor()
    if executor is not None:
        return executor.submit(fn, *args)
    future: Future[T] = Future()
    try:
        future.set_result(fn(*args))
    except Exception as error:  # noqa: BLE001 - re-raised by .result(), as from the pool
        future.set_exception(error)
    return future
