"""Parsing Lens pages in a helper process, off the application's interpreter lock.

Analysing a 1.7 MB results page is about 0.1 CPU-s of pure Python. In a thread
it competes with the event loop (the browser driver's messages, and whatever
else the application runs there) for the interpreter lock: with 8 queries in
flight on two cores that lock was the bottleneck (measured: 3.4 queries/s with
a thread, 4.0-4.6 with a helper process). So the engine parses in one helper
interpreter per event loop (``python -m rir.engines.google_lens.parse_worker``),
started on first use. It reads length-prefixed pickles on stdin and answers in
kind, one page at a time, and exits when its stdin closes, so it never outlives
the application. If it cannot start (no usable ``sys.executable``, an event
loop without subprocess support) or dies, pages are parsed in a thread as before.
"""

from __future__ import annotations

import asyncio
import logging
import os
import pickle
import struct
import sys
from dataclasses import dataclass, field
from pathlib import Path

from rir._runtime import LoopLocal, close_on_exit
from rir.engines.google_lens.parser import PageAnalysis, analyse_lens_html

__all__ = ["PageParser"]

logger = logging.getLogger(__name__)

_HEADER = struct.Struct("!Q")
_STOP_TIMEOUT_S = 2.0
_MAX_RESTARTS = 3
_PACKAGE_ROOT = str(Path(__file__).resolve().parents[3])  # the directory holding rir/


class _HelperGone(Exception):
    """The helper process died or its pipe broke mid-exchange."""


@dataclass
class _Helper:
    """The helper process of one event loop (None: parse in threads)."""

    process: asyncio.subprocess.Process | None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def exchange(self, payload: bytes) -> tuple[bool, object]:
        assert self.process is not None
        stdin, stdout = self.process.stdin, self.process.stdout
        assert stdin is not None and stdout is not None
        async with self.lock:
            try:
                stdin.write(_HEADER.pack(len(payload)) + payload)
                await stdin.drain()
                (size,) = _HEADER.unpack(await stdout.readexactly(_HEADER.size))
                reply = await stdout.readexactly(size)
            except (OSError, asyncio.IncompleteReadError) as exc:
                raise _HelperGone(str(exc) or type(exc).__name__) from None
        try:
            ok, value = pickle.loads(reply)
        except (pickle.UnpicklingError, AttributeError, ImportError, ValueError, EOFError) as exc:
            raise _HelperGone(f"unreadable answer: {exc}") from None
        return bool(ok), value


async def _start() -> _Helper:
    if not sys.executable:
        return _Helper(None)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (_PACKAGE_ROOT, env.get("PYTHONPATH", "")) if p)
    try:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", __name__, stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL, env=env)
    except (OSError, NotImplementedError, RuntimeError) as exc:
        logger.info("Lens pages are parsed in a thread (no helper process: %s)", exc)
        return _Helper(None)
    return _Helper(process)


async def _stop(helper: _Helper) -> None:
    process = helper.process
    if process is None or process.returncode is not None:
        return
    if process.stdin is not None:
        process.stdin.close()  # the helper exits at the end of its input
    try:
        await asyncio.wait_for(process.wait(), _STOP_TIMEOUT_S)
    except asyncio.TimeoutError:
        process.kill()
        await process.wait()


class PageParser:
    """:func:`analyse_lens_html` in a helper process (see the module docstring)."""

    def __init__(self) -> None:
        self._per_loop: LoopLocal[_Helper] = LoopLocal(_start, _stop)
        self._restarts = 0
        self._threads_only = False  # after the helper died too often
        close_on_exit(self)  # the sync API's helper, on the background loop

    async def analyse(self, html: str, *, page_url: str | None = None) -> PageAnalysis:
        """The page's analysis; the same as ``analyse_lens_html(html, page_url=...)``."""
        helper = None if self._threads_only else await self._per_loop.get()
        if helper is not None and helper.process is not None:
            payload = pickle.dumps((html, page_url), protocol=pickle.HIGHEST_PROTOCOL)
            try:
                # Shielded: a caller cancelled mid-exchange must not leave its answer
                # in the pipe for the next caller to read.
                ok, value = await asyncio.shield(helper.exchange(payload))
            except _HelperGone as exc:
                await self._replace(helper, exc)
            else:
                if ok and isinstance(value, PageAnalysis):
                    return value
                logger.debug("The parse helper failed on a page (%s); parsing it here", value)
        return await asyncio.to_thread(analyse_lens_html, html, page_url=page_url)

    async def _replace(self, helper: _Helper, exc: _HelperGone) -> None:
        """Drop a dead helper; the next page starts a new one (a few times at most)."""
        if self._per_loop.current() is helper:
            self._per_loop.discard()
            await _stop(helper)
            self._restarts += 1
            self._threads_only = self._restarts >= _MAX_RESTARTS
        logger.warning("The Lens parse helper process stopped (%s); the page is parsed here",
                       exc)

    async def aclose(self) -> None:
        """Stop this loop's helper (other loops stop their own)."""
        await self._per_loop.aclose()


def _serve() -> None:
    """The helper's side: pages in, analyses out, until stdin closes."""
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # a stray print must not corrupt the replies
    while True:
        header = stdin.read(_HEADER.size)
        if len(header) < _HEADER.size:
            return
        (size,) = _HEADER.unpack(header)
        html, page_url = pickle.loads(stdin.read(size))
        try:
            reply: tuple[bool, object] = (True, analyse_lens_html(html, page_url=page_url))
        except Exception as exc:  # noqa: BLE001 - reported to the parent, which parses again
            reply = (False, f"{type(exc).__name__}: {exc}")
        data = pickle.dumps(reply, protocol=pickle.HIGHEST_PROTOCOL)
        stdout.write(_HEADER.pack(len(data)) + data)
        stdout.flush()


if __name__ == "__main__":
    _serve()
