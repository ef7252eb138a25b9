"""Reading results pages off the network, before the browser renders them.

Rendering Google's results page (1.7 MB of HTML and inline scripts) costs the
browser three to four times the CPU of everything else in a query, and the
parser reads the HTML anyway. So each main-frame document the page receives is
paused at the response stage (Chrome DevTools Protocol, ``Fetch`` domain):
Chromium's own network stack has fetched it, with the context's cookies, TLS
and HTTP/2 like any Chrome, and the body is handed to the parser first.

* A results page is taken there and its navigation is aborted: the page never
  commits it, so no renderer spends a cycle on it (committing even an empty
  stand-in document instead cost 0.14 CPU-s, 30% of such a query). The page
  stays where it was, and every wait of the engine gives way as soon as
  :attr:`NetworkReader.arrived` is set.
* Anything else (redirects, consent, block and JavaScript pages, "no results",
  pages the parser does not recognise) continues unchanged into the page, where
  the engine's in-page flow handles it: consent is declined, an interstitial
  runs its scripts, results that only scripts create are waited for.
* A results page that looks thin (:attr:`NetworkReader.hand_over` gives a
  reason: fewer hits than asked and no end-of-list sign, top cards without
  thumbnails) also continues into the page: the engine renders it and scrolls
  for the cards its scripts add. Complete pages keep the fast path.

``render_results=True`` (and screenshots, which need the rendered page) turn
the network read off.
"""

from __future__ import annotations

import asyncio
import base64
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from playwright.async_api import CDPSession
from playwright.async_api import Error as PlaywrightError

from rir.engines.google_lens.parse_worker import PageParser
from rir.engines.google_lens.parser import PageAnalysis
from rir.engines.google_lens.states import PageKind

__all__ = ["NetworkPage", "NetworkReader"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class NetworkPage:
    """A results page as the network delivered it, already analysed."""

    analysis: PageAnalysis
    html: str


def _charset(headers: dict[str, str]) -> str:
    for part in headers.get("content-type", "").split(";")[1:]:
        name, _, value = part.strip().partition("=")
        if name.lower() == "charset" and value:
            return value.strip('"\' ')
    return "utf-8"


def _decode(body: dict[str, Any], headers: dict[str, str]) -> str:
    if not body.get("base64Encoded"):
        return str(body.get("body", ""))
    data = base64.b64decode(body.get("body", ""))
    try:
        return data.decode(_charset(headers), errors="replace")
    except LookupError:  # a charset Python does not know
        return data.decode("utf-8", errors="replace")


class NetworkReader:
    """Takes the page's results documents off the network (see the module docstring).

    Attach with :meth:`attach`; :meth:`take` returns the latest results page read
    (once), and :attr:`arrived` is set whenever one is waiting.
    """

    def __init__(self, session: CDPSession, main_frame: str, parser: PageParser) -> None:
        self._session = session
        self._main_frame = main_frame
        self._parser = parser
        self._latest: NetworkPage | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.arrived = asyncio.Event()
        # Why a results page is not taken but rendered (None: take it); set by the engine.
        self.hand_over: Callable[[PageAnalysis], str | None] | None = None
        self.handed_over: list[tuple[str, int]] = []  # (reason, hits the server sent)

    @classmethod
    async def attach(cls, session: CDPSession, parser: PageParser) -> NetworkReader:
        """Start reading the documents of the page ``session`` is attached to."""
        tree = await session.send("Page.getFrameTree")
        reader = cls(session, tree["frameTree"]["frame"]["id"], parser)
        session.on("Fetch.requestPaused", reader._on_paused)
        await session.send("Fetch.enable", {"patterns": [
            {"urlPattern": "*", "resourceType": "Document", "requestStage": "Response"}]})
        return reader

    def take(self) -> NetworkPage | None:
        """The results page read since the last call, if any."""
        page, self._latest = self._latest, None
        self.arrived.clear()
        return page

    def close(self) -> None:
        """Stop handling paused documents (the page is going away)."""
        for task in self._tasks:
            task.cancel()

    def _on_paused(self, event: dict[str, Any]) -> None:
        task = asyncio.ensure_future(self._handle(event))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _handle(self, event: dict[str, Any]) -> None:
        request_id = event["requestId"]
        try:
            try:
                page = await self._read_results(event)
            except PlaywrightError:
                raise
            except Exception:  # a parser bug must not stall the page: it renders instead
                logger.warning("Reading a Lens page off the network failed; the browser "
                               "renders it instead", exc_info=True)
                page = None
            if page is None:
                await self._session.send("Fetch.continueRequest", {"requestId": request_id})
                return
            self._latest = page
            self.arrived.set()
            await self._session.send("Fetch.failRequest", {
                "requestId": request_id, "errorReason": "Aborted"})
        except PlaywrightError as exc:
            # The page or its context closed under us (query over, browser gone).
            logger.debug("A paused Lens document could not be handled: %s", exc)

    async def _read_results(self, event: dict[str, Any]) -> NetworkPage | None:
        """The analysed page if ``event`` is a results document of the main frame."""
        status = event.get("responseStatusCode")
        if event.get("frameId") != self._main_frame or status is None \
                or not 200 <= status < 300:
            return None  # subframes, redirects, errors: the page handles them
        headers = {h["name"].lower(): h["value"] for h in event.get("responseHeaders", [])}
        if "html" not in headers.get("content-type", "text/html").lower():
            return None
        body = await self._session.send("Fetch.getResponseBody",
                                        {"requestId": event["requestId"]})
        html = _decode(body, headers)
        analysis = await self._parser.analyse(html, page_url=event["request"]["url"])
        if analysis.state.kind is not PageKind.RESULTS:
            return None
        reason = self.hand_over(analysis) if self.hand_over is not None else None
        if reason is not None:
            hits = len(analysis.result.hits) if analysis.result is not None else 0
            self.handed_over.append((reason, hits))
            return None
        return NetworkPage(analysis, html)
