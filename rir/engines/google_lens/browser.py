"""Finding a Chromium and keeping one warm: browser discovery and the browser pool.

Discovery order: the ``browser_path`` option; the ``RIR_BROWSER_PATH``
environment variable (an explicit override); Playwright's own Chromium when
``playwright install chromium`` has been run; then the usual system locations
(Debian/Ubuntu ``chromium``, Google Chrome, macOS and Windows installs). For
headless runs a system *headless shell* (Debian's ``chromium-headless-shell``,
``chrome-headless-shell``) comes first: it is what Playwright itself launches
for headless Chromium, and it costs half the CPU per query of a full browser
(measured: 0.14 against 0.33 CPU-s to open a context, a page and one document).

The pool launches one browser per engine and event loop on first use and keeps
it for the engine's life. Each query gets a fresh context (cookies, cache and
storage start empty unless a storage state is given), at most
``max_concurrency`` at a time. A browser that crashed or was killed is noticed
and replaced by the next query; closing the engine (or interpreter exit, for the
sync API's background loop) closes the browser and the Playwright driver, so no
Chromium process outlives it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playwright.async_api import Browser, BrowserContext, Page, Playwright, async_playwright
from playwright.async_api import Error as PlaywrightError

from rir._runtime import LoopLocal, close_on_exit
from rir.errors import ConfigurationError

__all__ = ["LAUNCH_ARGS", "BrowserPool", "common_browser_paths", "find_browser"]

logger = logging.getLogger(__name__)

ENV_BROWSER_PATH = "RIR_BROWSER_PATH"
# No first-run UI, no sync/component/update/metrics chatter (on locked-down
# networks that chatter also gets connections refused in bursts), no GPU, and
# /tmp instead of a small /dev/shm in containers.
LAUNCH_ARGS: tuple[str, ...] = (
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-domain-reliability",
    "--metrics-recording-only",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--mute-audio",
    "--disable-features=Translate,MediaRouter,OptimizationHints",
    "--disable-blink-features=AutomationControlled",
)
_CLOSE_TIMEOUT_S = 10.0
_LAUNCH_TIMEOUT_MS = 60_000
_HELPER_EXIT_S = 2.0
# Each launch gets a scratch config dir named after this process, so the helper
# processes a browser leaves behind can be told apart from anyone else's.
SCRATCH_PREFIX = f"rir-lens-{os.getpid()}-"


_HEADLESS_SHELLS = ("chromium-headless-shell", "chrome-headless-shell")


def common_browser_paths(*, headless: bool = False) -> list[str]:
    """Where system Chromium / Chrome usually live on this platform.

    ``headless`` puts headless shells (which cannot show a window) first.
    """
    if sys.platform == "darwin":
        return [
            "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
            "/Applications/Chromium.app/Contents/MacOS/Chromium",
            "/Applications/Microsoft Edge.app/Contents/MacOS/Microsoft Edge",
        ]
    if sys.platform.startswith("win"):
        roots = [os.environ.get(v, "") for v in ("PROGRAMFILES", "PROGRAMFILES(X86)",
                                                  "LOCALAPPDATA")]
        return [str(Path(root) / "Google" / "Chrome" / "Application" / "chrome.exe")
                for root in roots if root]
    names = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable",
             "chrome", "microsoft-edge")
    # Debian's /usr/bin/chromium-headless-shell is a shell script that does not exec:
    # launching the binary itself keeps the browser the process Playwright started.
    shells = ["/usr/lib/chromium/chromium-headless-shell",
              *(path for name in _HEADLESS_SHELLS if (path := shutil.which(name))),
              "/usr/bin/chromium-headless-shell"]
    found = [path for name in names if (path := shutil.which(name))]
    browsers = [*found, "/usr/bin/chromium", "/usr/bin/chromium-browser", "/snap/bin/chromium",
                "/usr/bin/google-chrome", "/usr/bin/google-chrome-stable",
                "/opt/google/chrome/chrome"]
    return [*shells, *browsers] if headless else browsers


def _no_browser_error() -> ConfigurationError:
    return ConfigurationError(
        "No Chromium or Chrome browser was found for the google_lens engine. Either install "
        "Playwright's browser with `python -m playwright install chromium`, or install a "
        "system Chromium/Chrome (e.g. `apt-get install chromium`) and, if it is not in a "
        f"standard place, point {ENV_BROWSER_PATH} (or the browser_path option) at it."
    )


def find_browser(browser_path: str | os.PathLike[str] | None = None,
                 managed_path: str | None = None, *, headless: bool = False) -> str | None:
    """The browser executable to launch, or None for Playwright's managed Chromium.

    ``managed_path`` is where Playwright's own Chromium would be installed
    (Playwright picks its headless shell itself for headless launches);
    ``headless`` lets a system headless shell be chosen.
    Raises ConfigurationError when nothing usable is found.
    """
    for source, value in (("browser_path", browser_path),
                          (ENV_BROWSER_PATH, os.environ.get(ENV_BROWSER_PATH))):
        if value:
            path = Path(value).expanduser()
            if not path.is_file():
                raise ConfigurationError(
                    f"{source} points to '{path}', which is not a browser executable (no such "
                    f"file). Fix {source}, or unset it to let the engine find a browser."
                )
            return str(path)
    if managed_path and Path(managed_path).is_file():
        return None
    for candidate in common_browser_paths(headless=headless):
        if Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    raise _no_browser_error()


def _launch_args(extra: Sequence[str]) -> list[str]:
    args = list(LAUNCH_ARGS)
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        args.append("--no-sandbox")  # Chromium refuses to start as root with its sandbox
    return args + [a for a in extra if a not in args]


def _processes_mentioning(marker: str) -> list[int]:
    """Pids whose command line contains ``marker`` (Linux /proc; empty elsewhere)."""
    pids = []
    needle = marker.encode()
    try:
        entries = list(os.scandir("/proc"))
    except OSError:
        return []
    for entry in entries:
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            with open(os.path.join(entry.path, "cmdline"), "rb") as handle:
                if needle in handle.read():
                    pids.append(int(entry.name))
        except OSError:
            continue  # exited meanwhile, or not ours to read
    return pids


def _still_running_after(marker: str, seconds: float) -> list[int]:
    """Processes mentioning ``marker`` that have not exited within ``seconds``."""
    deadline = time.monotonic() + seconds
    while (pids := _processes_mentioning(marker)) and time.monotonic() < deadline:
        time.sleep(0.05)  # in a worker thread: exits of non-children cannot be awaited
    return pids


async def _reap_helpers(scratch: str) -> None:
    """Wait for (then kill) the helpers a closed browser left running, and drop its dir.

    Chromium's crash handler is double-forked away from the browser (its parent is
    init), so closing the browser does not end it: it lingers a second or two, and
    after a crash it stays. Its command line names our scratch dir, which is how it
    is found; nothing else is touched.
    """
    try:
        pids = await asyncio.to_thread(_still_running_after, scratch, _HELPER_EXIT_S)
    except RuntimeError:  # at interpreter exit no new worker threads start: wait inline
        pids = _still_running_after(scratch, _HELPER_EXIT_S)
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            continue  # exited on its own just now
        logger.debug("Killed browser helper process %d that outlived its browser", pid)
    shutil.rmtree(scratch, ignore_errors=True)


@dataclass
class _Spare:
    """A context and page created ahead of the next query (never used before it)."""

    browser: Browser
    key: str
    page: Page


@dataclass
class _LoopBrowser:
    """The pool's resources on one event loop."""

    semaphore: asyncio.Semaphore
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    playwright: Playwright | None = None
    browser: Browser | None = None
    scratch: str | None = None
    launches: int = 0
    spare: asyncio.Task[_Spare | None] | None = None
    closing: set[asyncio.Task[None]] = field(default_factory=set)


def _options_key(options: dict[str, Any]) -> str:
    return json.dumps(options, sort_keys=True, default=str)


class BrowserPool:
    """One lazily launched Chromium per event loop, fresh contexts, bounded concurrency."""

    def __init__(self, *, browser_path: str | os.PathLike[str] | None = None,
                 headless: bool = True, max_concurrency: int = 4,
                 extra_args: Sequence[str] = ()) -> None:
        if max_concurrency < 1:
            raise ConfigurationError(f"max_concurrency must be >= 1, got {max_concurrency}.")
        self.browser_path = browser_path
        self.headless = headless
        self.max_concurrency = max_concurrency
        self.extra_args = tuple(extra_args)
        self._per_loop: LoopLocal[_LoopBrowser] = LoopLocal(self._create, self._dispose)
        close_on_exit(self)  # the sync API's browser, on the background loop

    async def _create(self) -> _LoopBrowser:
        return _LoopBrowser(semaphore=asyncio.Semaphore(self.max_concurrency))

    @property
    def launches(self) -> int:
        """How many browsers this loop's pool has launched (1 unless one crashed)."""
        holder = self._per_loop.current()
        return holder.launches if holder else 0

    async def browser(self) -> Browser:
        """This loop's browser, launched on first use and relaunched after a crash."""
        holder = await self._per_loop.get()
        async with holder.lock:
            if holder.browser is not None and holder.browser.is_connected():
                return holder.browser
            if holder.browser is not None:
                logger.warning("The Lens browser disconnected (crashed or killed); "
                               "launching a new one.")
                await self._discard_browser(holder)
            if holder.playwright is None:
                holder.playwright = await async_playwright().start()
            holder.scratch = tempfile.mkdtemp(prefix=SCRATCH_PREFIX)
            holder.browser = await self._launch(holder.playwright, holder.scratch)
            holder.launches += 1
            return holder.browser

    async def _discard_browser(self, holder: _LoopBrowser) -> None:
        if holder.browser is not None:
            await _close_browser(holder.browser)
            holder.browser = None
        if holder.scratch is not None:
            await _reap_helpers(holder.scratch)
            holder.scratch = None

    async def _launch(self, playwright: Playwright, scratch: str) -> Browser:
        executable = find_browser(self.browser_path, playwright.chromium.executable_path,
                                  headless=self.headless)
        try:
            return await playwright.chromium.launch(
                executable_path=executable, headless=self.headless,
                args=_launch_args(self.extra_args), timeout=_LAUNCH_TIMEOUT_MS,
                # The config dir only holds crash-handler state; a scratch one per launch
                # keeps the user's own Chromium config untouched and marks our helpers.
                env={**os.environ, "XDG_CONFIG_HOME": scratch},
            )
        except PlaywrightError as exc:
            first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc)
            where = executable or "Playwright's managed Chromium"
            raise ConfigurationError(
                f"Could not start the browser '{where}': {first_line}. Check that it runs "
                f"(`{where} --version`), or set {ENV_BROWSER_PATH} to another Chromium/Chrome."
            ) from None

    @asynccontextmanager
    async def page(self, **options: Any) -> AsyncIterator[Page]:
        """A page in a fresh context (``options`` are ``new_context``'s); waits while full.

        The context is made ahead of time when possible: when a query ends, the
        next one's context and page are prepared while this one's is closed, both
        in the background, so neither costs the next query any latency. A slot is
        freed only once its context is gone, so open contexts stay bounded.
        """
        holder = await self._per_loop.get()
        await holder.semaphore.acquire()
        try:
            browser = await self.browser()
            key = _options_key(options)
            page = await self._take_spare(holder, browser, key)
            if page is None:
                page = await (await browser.new_context(**options)).new_page()
        except BaseException:
            holder.semaphore.release()
            raise
        try:
            yield page
        finally:
            if holder.spare is None and browser.is_connected():
                holder.spare = asyncio.ensure_future(self._make_spare(browser, key, options))
            closing = asyncio.ensure_future(_close_then_release(holder, browser, page.context))
            holder.closing.add(closing)
            closing.add_done_callback(holder.closing.discard)

    async def _make_spare(self, browser: Browser, key: str,
                          options: dict[str, Any]) -> _Spare | None:
        try:
            return _Spare(browser, key, await (await browser.new_context(**options)).new_page())
        except PlaywrightError as exc:  # the browser went away meanwhile: no spare then
            logger.debug("Preparing a browser context failed: %s", exc)
            return None

    async def _take_spare(self, holder: _LoopBrowser, browser: Browser, key: str) -> Page | None:
        task, holder.spare = holder.spare, None
        spare = await task if task is not None else None
        if spare is None:
            return None
        if spare.browser is browser and browser.is_connected() and spare.key == key \
                and not spare.page.is_closed():
            return spare.page
        await _close_quietly(spare.page.context)  # made for other options or a dead browser
        return None

    @asynccontextmanager
    async def context(self, **options: Any) -> AsyncIterator[BrowserContext]:
        """A fresh browser context, closed on exit; waits while the pool is full."""
        holder = await self._per_loop.get()
        async with holder.semaphore:
            browser = await self.browser()
            context = await browser.new_context(**options)
            try:
                yield context
            finally:
                if browser.is_connected():
                    await _close_quietly(context)

    async def aclose(self) -> None:
        """Close this loop's browser and Playwright driver (other loops close their own)."""
        await self._per_loop.aclose()

    async def _dispose(self, holder: _LoopBrowser) -> None:
        async with holder.lock:
            task, holder.spare = holder.spare, None
            spare = await task if task is not None else None
            if spare is not None:
                await _close_quietly(spare.page.context)
            await asyncio.gather(*holder.closing, return_exceptions=True)
            await self._discard_browser(holder)
            if holder.playwright is not None:
                playwright, holder.playwright = holder.playwright, None
                await playwright.stop()


async def _close_then_release(holder: _LoopBrowser, browser: Browser,
                              context: BrowserContext) -> None:
    try:
        if browser.is_connected():
            await _close_quietly(context)
    finally:
        holder.semaphore.release()


async def _close_quietly(context: BrowserContext) -> None:
    try:
        await asyncio.wait_for(context.close(), _CLOSE_TIMEOUT_S)
    except (PlaywrightError, asyncio.TimeoutError) as exc:
        # The browser died under the context; the pool notices and relaunches.
        logger.debug("Closing a Lens browser context failed: %s", exc)


async def _close_browser(browser: Browser) -> None:
    try:
        await asyncio.wait_for(browser.close(), _CLOSE_TIMEOUT_S)
    except (PlaywrightError, asyncio.TimeoutError) as exc:
        # Already gone (crash) or hung: stopping the driver afterwards kills it.
        logger.debug("Closing the Lens browser failed: %s", exc)
