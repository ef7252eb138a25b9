"""``rir login``: a visible browser on Lens, whose session the engine then reuses.

The user accepts (or rejects) Google's cookie dialog and may sign in; the
context's storage state (cookies and local storage) is saved to the user config
dir with owner-only permissions, where :class:`GoogleLensEngine` finds it by
default. The state is snapshotted every few seconds, so closing the window
saves it as well as pressing Enter does.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from playwright.async_api import BrowserContext, Page
from playwright.async_api import Error as PlaywrightError

from rir.engines.google_lens.browser import BrowserPool
from rir.engines.google_lens.options import DEFAULT_BASE_URL
from rir.engines.google_lens.session import default_storage_state_path, load_session
from rir.errors import ConfigurationError

__all__ = ["alogin", "display_available"]

logger = logging.getLogger(__name__)

_SNAPSHOT_EVERY_S = 2.0
WaitForUser = Callable[[Page], Awaitable[None]]


def display_available() -> bool:
    """Whether a visible browser window can be opened here."""
    if not sys.platform.startswith("linux"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


async def _enter_or_close(page: Page) -> None:
    """Return when the user presses Enter in the terminal or closes the window."""
    loop = asyncio.get_running_loop()
    pressed = asyncio.Event()

    def read_line() -> None:
        # A daemon thread, so an unanswered prompt never keeps the process alive.
        sys.stdin.readline()
        loop.call_soon_threadsafe(pressed.set)

    threading.Thread(target=read_line, name="rir-login-stdin", daemon=True).start()
    closed = asyncio.Event()
    page.on("close", lambda _: closed.set())
    page.context.on("close", lambda _: closed.set())
    waiters = {asyncio.ensure_future(pressed.wait()), asyncio.ensure_future(closed.wait())}
    try:
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()


def _write_private(path: Path, state: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    # Owner-only from the first byte: the file holds session cookies.
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        json.dump(state, handle)
    os.replace(temporary, path)


async def _snapshot(context: BrowserContext) -> dict[str, Any] | None:
    try:
        return dict(await context.storage_state())
    except PlaywrightError:  # the window was closed; keep the last snapshot
        return None


async def alogin(
    *,
    output: str | os.PathLike[str] | None = None,
    base_url: str = DEFAULT_BASE_URL,
    browser_path: str | None = None,
    headless: bool = False,
    wait_for_user: WaitForUser | None = None,
    timeout_s: float = 900.0,
) -> Path:
    """Open Lens in a browser, let the user act, save the session; returns the file path.

    ``wait_for_user(page)`` returns when the user is done (default: Enter in the
    terminal or closing the window). An existing session file is loaded first, so
    logging in again refreshes it.
    """
    if not headless and not display_available():
        raise ConfigurationError(
            "rir login opens a visible browser window, but there is no display here "
            "($DISPLAY is not set). Run it on a desktop (or over `ssh -X`, or under "
            "`xvfb-run` with a VNC viewer), or copy a session file saved elsewhere to "
            f"'{default_storage_state_path()}'."
        )
    target = Path(output).expanduser() if output else default_storage_state_path()
    # A visible window sizes its own page; headless keeps Playwright's default viewport.
    options: dict[str, Any] = {"no_viewport": True} if not headless else {}
    if target.is_file():
        options["storage_state"] = load_session(target)
    pool = BrowserPool(browser_path=browser_path, headless=headless, max_concurrency=1)
    state: dict[str, Any] | None = None
    try:
        async with pool.context(**options) as context:
            page = await context.new_page()
            await page.goto(base_url.rstrip("/") + "/", wait_until="domcontentloaded")
            print("A browser window is open on Google Lens. Accept or reject the cookie "
                  "dialog, sign in if you like, then press Enter here (or close the window).",
                  file=sys.stderr, flush=True)
            waiting = asyncio.ensure_future((wait_for_user or _enter_or_close)(page))
            loop = asyncio.get_running_loop()
            deadline = loop.time() + timeout_s
            while not waiting.done() and loop.time() < deadline:
                state = await _snapshot(context) or state
                await asyncio.wait({waiting}, timeout=min(_SNAPSHOT_EVERY_S,
                                                          deadline - loop.time()))
            if not waiting.done():
                waiting.cancel()
            else:
                waiting.result()  # surface the waiter's own errors
            state = await _snapshot(context) or state
    finally:
        await pool.aclose()
    if state is None:
        raise ConfigurationError(
            "The browser closed before the session could be saved; run `rir login` again "
            "and press Enter in the terminal before closing the window.")
    _write_private(target, state)
    logger.info("Saved the Google Lens session to %s", target)
    return target
