"""What one Lens query has seen so far, and waits that give way to a network read."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Any

from playwright.async_api import Error as PlaywrightError

from rir.engines.google_lens.network_read import NetworkReader
from rir.engines.google_lens.page_flow import NavigationWatch

__all__ = ["NETWORK", "QueryState"]

NETWORK = "network"  # the verdict when a results page was read off the network


@dataclass
class QueryState:
    """Per-query bookkeeping (what the page's requests and responses told us)."""

    blocked_requests: int = 0
    status: int | None = None
    consent_clicks: int = 0
    navigation: NavigationWatch | None = None
    reader: NetworkReader | None = None
    read_from: str = "page"  # where the final page was read: "page" (DOM) or "network"
    # Image cards seen: in the HTML the server sent, in the rendered DOM, after each scroll.
    server_count: int | None = None
    dom_count: int | None = None
    scroll_counts: list[int] = field(default_factory=list)
    scrolled_to_end: bool = False  # a scroll to the bottom brought no new cards
    handovers: list[str] = field(default_factory=list)  # why a read was not trusted
    views: list[str] = field(default_factory=list)  # the udm views visited, in order
    opened_by: str = ""  # how the query reached Lens: "url" (/uploadbyurl) or "upload"
    retries: list[str] = field(default_factory=list)  # each retry and why
    upload_retried: bool = False
    degraded_retried: bool = False
    pages_seen: list[str] = field(default_factory=list)  # page states, in order
    saved_pages: list[str] = field(default_factory=list)  # files save_html wrote

    def card_counts(self) -> dict[str, Any]:
        return {"server": self.server_count, "dom": self.dom_count,
                "scrolls": list(self.scroll_counts)}

    async def unless_network(self, step: Awaitable[Any]) -> bool:
        """Run ``step`` (a navigation, a click, a wait) unless a results page is read
        off the network first; returns whether ``step`` ran to the end.

        That read aborts the page's navigation, so a step waiting for it would
        otherwise wait in vain (or fail with ``net::ERR_ABORTED``).
        """
        task = asyncio.ensure_future(step)
        if self.reader is None:
            await task
            return True
        arrived = asyncio.ensure_future(self.reader.arrived.wait())
        try:
            await asyncio.wait({task, arrived}, return_when=asyncio.FIRST_COMPLETED)
        except BaseException:  # cancelled from outside: so is the step
            task.cancel()
            raise
        finally:
            arrived.cancel()
        if not self.reader.arrived.is_set():
            await task  # finished first: its result or its error
            return True
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, PlaywrightError):
            await task  # the aborted navigation's error, if it got that far
        return False
