"""``GoogleLensEngine``: reverse image search on Google Lens in a real Chromium.

Flow per query: a fresh browser context from the pool; an image URL goes to
Lens' ``/uploadbyurl`` entry point, anything else (file, bytes, PIL image) is
uploaded as a multipart form to ``/v3/upload``; then we wait for a decisive
page, pass the consent page if needed (declining non-essential cookies), switch
to the exact-matches tab when asked, parse the DOM with
:func:`~rir.engines.google_lens.parse_lens_html`'s parser, and optionally take
a screenshot of the results area (the paper's context for the model).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
import time
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import quote, urlencode

from playwright.async_api import BrowserContext, Page, Route
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import TimeoutError as PlaywrightTimeoutError

from rir.engines.base import Engine
from rir.engines.google_lens.browser import BrowserPool
from rir.engines.google_lens.client_hints import ClientHints
from rir.engines.google_lens.network_read import NetworkReader
from rir.engines.google_lens.options import DEFAULT_BASE_URL, VIEW_UDM, LensOptions
from rir.engines.google_lens.page_flow import (
    RELOAD_LOOP,
    NavigationWatch,
    click_consent_reject,
    page_html,
    results_clip,
    submit_upload,
    wait_consent_gone,
    wait_for_page_state,
)
from rir.engines.google_lens.parse_worker import PageParser
from rir.engines.google_lens.parser import PageAnalysis
from rir.engines.google_lens.query_state import NETWORK, QueryState
from rir.engines.google_lens.read_policy import (
    completeness,
    hand_over_reason,
    retry_rule,
    scroll_for_more,
    view_url,
    wants_visual_view,
)
from rir.engines.google_lens.session import StorageOption, load_session, resolve_storage_path
from rir.engines.google_lens.states import ENGINE, PageKind, PageState, degraded_error
from rir.errors import EngineError, EngineRateLimitedError, EngineTimeoutError
from rir.inputs.images import QueryImage
from rir.results.models import SearchResult
from rir.urls import redact_url

__all__ = ["GoogleLensEngine"]

logger = logging.getLogger(__name__)

_UPLOAD_MAX_SIDE = 1280
_UPLOAD_MAX_BYTES = 3_000_000
_VIEWPORT = {"width": 1366, "height": 900}
# A JavaScript interstitial usually clears itself (BotGuard passes, the page
# reloads); give it this long before calling it a block.
_INTERSTITIAL_GRACE_S = 3.0
_MAX_CONSENT_CLICKS = 2
_IMAGES_WAIT_S = 3.0


class GoogleLensEngine(Engine):
    """Google Lens through a real Chromium (Playwright).

    Args:
        hl: interface language of the results page (``"en"``, ``"de"``, ``"pt-BR"``).
        country: two-letter country for regional results (``"us"``); None = Google's choice.
        headless: False shows the browser window (debugging).
        timeout_s: deadline of one query, from the moment a browser context is ready.
        max_concurrency: queries in flight at once per event loop (one browser, N tabs).
        match_type: the Lens view to read: ``"all"`` (default: the All view, ``udm=26``,
            whose visual-matches preview holds up to ~60 cards; a larger ``k`` moves on to
            the Visual matches view), ``"visual"`` (Visual matches, ``udm=44``),
            ``"exact"`` (Exact matches, ``udm=48``) or ``"products"`` (``udm=37``; hits
            carry ``metadata["price"]`` and ``["merchant"]`` when the card shows them).
        screenshot: ``"off"``, ``"viewport"`` or ``"full"``: fill ``SearchResult.screenshot``
            with a PNG of the results area.
        storage_state: session file with Google cookies (consent, sign-in): a Playwright storage
            state, JSON cookie list or cookies.txt. None uses the file ``rir login`` saves,
            if present; False never uses one.
        base_url: where Lens lives (tests point this at a local fake server).
        browser_path: a Chromium/Chrome executable (default: discovered, see ``RIR_BROWSER_PATH``).
        save_html: a file or directory; the final page of each query is saved there (for bug
            reports when Google changes its layout).
        render_results: False (default) reads a results page as it arrives from the network and
            never renders it (a fraction of the CPU and latency; consent, block and
            JavaScript pages are still rendered and handled in the page). True lets the page
            render and reads the live DOM, including anything its scripts add later.
            Screenshots always render.
        allowed_hosts: if set, the page may only load from these hosts (default: unrestricted,
            or only base_url's host when base_url is local).
    """

    name: ClassVar[str] = "google_lens"

    def __init__(
        self,
        *,
        hl: str = "en",
        country: str | None = None,
        headless: bool = True,
        timeout_s: float = 30.0,
        max_concurrency: int = 4,
        match_type: str = "all",
        screenshot: str = "off",
        storage_state: StorageOption = None,
        base_url: str = DEFAULT_BASE_URL,
        browser_path: str | None = None,
        save_html: str | Path | None = None,
        allowed_hosts: str | list[str] | tuple[str, ...] | None = None,
        render_results: bool = False,
    ) -> None:
        self.options = LensOptions.build(
            hl=hl, country=country, headless=headless, timeout_s=timeout_s,
            max_concurrency=max_concurrency, match_type=match_type, screenshot=screenshot,
            storage_state=storage_state, base_url=base_url, browser_path=browser_path,
            save_html=save_html, allowed_hosts=allowed_hosts, render_results=render_results,
        )
        # Without screenshots, images are never needed: Blink skips them entirely
        # (cheaper than aborting each request, and nothing is fetched).
        no_images = ("--blink-settings=imagesEnabled=false",) \
            if self.options.screenshot == "off" else ()
        self._pool = BrowserPool(browser_path=self.options.browser_path,
                                 headless=self.options.headless,
                                 max_concurrency=self.options.max_concurrency,
                                 extra_args=no_images)
        self._parser = PageParser()

    # -- engine contract --------------------------------------------------------------------

    def cache_key_options(self) -> Mapping[str, Any]:
        o = self.options
        # "udm" also keeps entries from before the views apart: "visual" used to
        # name the All view.
        key: dict[str, Any] = {"hl": o.hl, "country": o.country, "match_type": o.match_type,
                               "udm": VIEW_UDM[o.match_type], "screenshot": o.screenshot}
        if o.base_url != DEFAULT_BASE_URL:
            key["base_url"] = o.base_url
        if self._renders_results:
            key["render_results"] = True  # may hold what scripts add; a plain read does not
        return key

    async def aclose(self) -> None:
        await self._pool.aclose()
        await self._parser.aclose()

    @property
    def _renders_results(self) -> bool:
        return self.options.render_results or self.options.screenshot != "off"

    @property
    def browser_launches(self) -> int:
        """Browsers launched on the current loop (more than 1 means one crashed)."""
        return self._pool.launches

    async def _asearch(self, image: QueryImage, *, k: int) -> SearchResult:
        query = QueryState()
        context_options = await self._context_options()
        try:
            async with self._pool.page(**context_options) as page:
                hints = await self._client_hints()
                # One DevTools session per page serves the client hints and the network
                # read (a session is a round trip to set up).
                session = None
                if hints is not None or not self._renders_results:
                    session = await page.context.new_cdp_session(page)
                if hints is not None:
                    assert session is not None
                    await hints.apply(session, context_options["extra_http_headers"][
                        "Accept-Language"])
                await self._install_routes(page.context, query)
                query.navigation = NavigationWatch(page)
                if not self._renders_results:
                    assert session is not None
                    query.reader = await NetworkReader.attach(session, self._parser)
                    query.reader.hand_over = functools.partial(hand_over_reason, self.options,
                                                               k=k)
                deadline = asyncio.get_running_loop().time() + self.options.timeout_s
                try:
                    return await self._drive(page, image, k, deadline, query)
                finally:
                    if query.reader is not None:
                        query.reader.close()
        except asyncio.TimeoutError:
            raise EngineTimeoutError(
                f"Google Lens did not show results, a 'no matches' page or a block page within "
                f"timeout_s={self.options.timeout_s:g}s for {image.origin}. Check the network "
                "connection, or raise timeout_s.", engine=ENGINE) from None
        except PlaywrightError as exc:
            raise self._browser_error(exc) from None

    # -- browser setup ----------------------------------------------------------------------

    async def _context_options(self) -> dict[str, Any]:
        o = self.options
        language = o.locale
        options: dict[str, Any] = {
            "locale": language,
            "viewport": _VIEWPORT,
            "extra_http_headers": {"Accept-Language": f"{language},{o.hl[:2]};q=0.9"},
        }
        hints = await self._client_hints()
        if hints is not None:
            options["user_agent"] = hints.user_agent
            options["extra_http_headers"].update(hints.headers())
        session = resolve_storage_path(o.storage_state)
        if session is not None:
            options["storage_state"] = await asyncio.to_thread(load_session, session)
        return options

    async def _client_hints(self) -> ClientHints | None:
        """Headless Chromium says "HeadlessChrome" in its user agent and client hints,
        which Google treats as a bot: present the same browser as a regular Chrome."""
        if not self.options.headless:
            return None
        browser = await self._pool.browser()
        return ClientHints.for_version(browser.version)

    async def _install_routes(self, context: BrowserContext, query: QueryState) -> None:
        """Abort every request to a host outside ``allowed_hosts`` (when set).

        The URL pattern is a regular expression matched inside the browser driver,
        so allowed requests never make a round trip through Python (a catch-all
        route handler costs milliseconds per request, seconds per results page).
        """
        allowed = self.options.allowed_hosts
        if allowed is None:
            return

        async def block(route: Route) -> None:
            query.blocked_requests += 1
            await route.abort("blockedbyclient")

        await context.route(_outside_hosts_pattern(allowed), block)

    def _browser_error(self, exc: PlaywrightError) -> EngineError:
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        network = re.search(r"net::ERR_[A-Z_]+|\bE(CONNREFUSED|CONNRESET|NOTFOUND|TIMEDOUT|"
                            r"AI_AGAIN)\b", text)
        if network:
            return EngineError(
                f"Could not load Google Lens from '{redact_url(self.options.base_url)}' "
                f"({network.group(0)}). Check the network connection (and base_url), then "
                "retry.", engine=ENGINE)
        if "closed" in text.lower() or "crash" in text.lower():
            return EngineError(
                f"The browser crashed or was closed during the Google Lens query ({text}). "
                "The next query starts a new browser; retry it.", engine=ENGINE)
        return EngineError(f"The browser failed during the Google Lens query: {text}",
                           engine=ENGINE)

    # -- one query --------------------------------------------------------------------------

    async def _open(self, page: Page, image: QueryImage, deadline: float, query: QueryState,
                    *, upload: bool = False) -> None:
        """Send the query: an image URL to ``/uploadbyurl`` (unless ``upload``), else the
        bytes to ``/v3/upload``."""
        o = self.options
        loop = asyncio.get_running_loop()
        params = {"hl": o.hl} | ({"gl": o.country} if o.country else {})
        if not upload and image.url and image.url.startswith(("http://", "https://")):
            query.opened_by = "url"
            target = (f"{o.base_url}/uploadbyurl?url={quote(image.url, safe='')}&"
                      f"{urlencode(params)}")
            await page.goto(target, wait_until="commit",
                            timeout=max(1.0, deadline - loop.time()) * 1000)
            return
        query.opened_by = "upload"
        params |= {"re": "df", "stcs": str(int(time.time() * 1000)),
                   "vpw": str(_VIEWPORT["width"]), "vph": str(_VIEWPORT["height"])}
        upload = image.downscaled(_UPLOAD_MAX_SIDE, max_bytes=_UPLOAD_MAX_BYTES)
        await submit_upload(page, f"{o.base_url}/v3/upload?{urlencode(params)}", upload, deadline)

    async def _settle(self, page: Page, deadline: float, query: QueryState,
                      k: int) -> tuple[PageAnalysis, str, bool]:
        """Wait and act until the page is results, no results, or definitely not.

        Returns the analysis, the HTML it was made from and whether that HTML was
        slimmed (styles and scripts dropped). A results page read off the network
        (see :mod:`~rir.engines.google_lens.network_read`) ends the wait at once.
        """
        loop = asyncio.get_running_loop()
        settled_only = switched_tab = False
        interstitial_since: float | None = None
        while True:
            network = query.reader.take() if query.reader is not None else None
            if network is not None:
                verdict, content, slim, analysis = NETWORK, network.html, False, network.analysis
                query.read_from = NETWORK
                query.server_count = _card_count(analysis)
            else:
                waiting = asyncio.ensure_future(wait_for_page_state(
                    page, deadline, settled_only=settled_only, watch=query.navigation))
                if not await query.unless_network(waiting):
                    continue
                verdict = waiting.result()
                if verdict == RELOAD_LOOP:
                    return _reload_loop(page.url), "", False
                slim = verdict == "results"
                content = await page_html(page, slim=slim)
                analysis = await self._parser.analyse(content, page_url=page.url)
                query.read_from = "page"
                query.dom_count = _card_count(analysis)
            kind = analysis.state.kind
            if kind is PageKind.CONSENT and query.consent_clicks < _MAX_CONSENT_CLICKS \
                    and await click_consent_reject(page, deadline):
                query.consent_clicks += 1
                await query.unless_network(wait_consent_gone(page, deadline))
                continue
            if kind is PageKind.BLOCKED and _is_interstitial(analysis):
                # A real browser usually clears it (the page reloads into results). If
                # it is still there after the grace period, reloading or not, we are blocked.
                interstitial_since = interstitial_since or loop.time()
                until = min(deadline, interstitial_since + _INTERSTITIAL_GRACE_S)
                if loop.time() < until:
                    navigated = asyncio.ensure_future(_navigated(page, until))
                    if not await query.unless_network(navigated) or navigated.result():
                        continue
            if kind is PageKind.UNKNOWN and not settled_only and verdict != "settled":
                settled_only = True  # the first look was early; judge the finished page
                continue
            # "all" reads whichever view Lens opens (the All view, as before); the
            # others move to their tab.
            udm = VIEW_UDM[self.options.match_type]
            if kind in (PageKind.RESULTS, PageKind.NO_RESULTS) and not switched_tab \
                    and analysis.result is not None and self.options.match_type != "all" \
                    and analysis.result.metadata.get("udm") != udm:
                switched_tab = True
                await self._switch_view(page, analysis, content, udm, deadline, query)
                settled_only = False
                continue
            if wants_visual_view(self.options, analysis, k, query):
                query.handovers.append(
                    f"{_card_count(analysis)} hits < k={k} in the All view, which offers more: "
                    "reading the Visual matches view (udm=44)")
                switched_tab = True
                await self._switch_view(page, analysis, content, VIEW_UDM["visual"], deadline,
                                        query)
                settled_only = False
                continue
            if query.reader is not None and query.reader.arrived.is_set():
                continue  # results came off the network meanwhile: they win
            return analysis, content, slim

    async def _switch_view(self, page: Page, analysis: PageAnalysis, content: str, udm: str,
                           deadline: float, query: QueryState) -> None:
        """Open the same results in another Lens view (its ``udm`` tab)."""
        url = view_url(analysis.page_url or page.url, content, udm)
        query.views.append(udm)
        timeout = max(1.0, deadline - asyncio.get_running_loop().time()) * 1000
        await query.unless_network(page.goto(url, wait_until="commit", timeout=timeout))

    async def _drive(self, page: Page, image: QueryImage, k: int, deadline: float,
                     query: QueryState) -> SearchResult:
        await query.unless_network(self._open(page, image, deadline, query))
        while True:
            analysis, content, slim = await self._settle(page, deadline, query, k)
            query.pages_seen.append(analysis.state.kind.value)
            saved = None
            if self.options.save_html and content:
                if slim:  # a bug report needs the whole page, scripts and styles included
                    content = await page.content()
                saved = await asyncio.to_thread(self._save_html, content, analysis)
                query.saved_pages.append(str(saved))
            retry = retry_rule(analysis, query)
            if retry is None:
                break
            why, upload = retry
            query.retries.append(why)
            logger.info("Google Lens: %s", why)
            await query.unless_network(self._open(page, image, deadline, query, upload=upload))
        kind = analysis.state.kind
        if query.reader is not None and query.reader.handed_over:
            for reason, hits in query.reader.handed_over:
                query.handovers.append(f"network read of {hits} hits handed over to the "
                                       f"rendered page: {reason}")
            if query.read_from == "page":  # the final page is the last one handed over
                query.server_count = query.reader.handed_over[-1][1]
        if kind is PageKind.RESULTS and query.read_from == "page":
            analysis = await scroll_for_more(page, self._parser, analysis, k, deadline, query)
        if kind is PageKind.UNKNOWN:
            # An unrecognised page may simply be an HTTP error page: say so. (Read from
            # the page, not a response listener: that would cost a round trip per
            # subresource on every query.)
            query.status = await _document_status(page)
            if query.status is not None and query.status >= 400:
                raise _http_error(query, page.url, saved)
        if kind is PageKind.NO_IMAGE_AT_URL or kind is PageKind.DEGRADED:
            raise degraded_error(analysis.state, analysis.page_url or page.url,
                                 retried=bool(query.retries), image_url=image.url)
        result = analysis.raise_for_state(saved_to=str(saved) if saved else None)
        metadata = dict(result.metadata)
        metadata.update(blocked_requests=query.blocked_requests,
                        consent_clicks=query.consent_clicks,
                        read_from=query.read_from)
        metadata.update(completeness(self.options, result, k, query,
                                     analysis.page_url or page.url))
        if saved:
            metadata["saved_html"] = str(saved)
        if len(query.saved_pages) > 1:  # a retried query: every page it settled on
            metadata["saved_pages"] = list(query.saved_pages)
        if query.retries:
            metadata["retries"] = list(query.retries)
        metadata["pages_seen"] = list(query.pages_seen)
        screenshot = None
        if self.options.screenshot != "off" and kind is PageKind.RESULTS:
            screenshot = await self._screenshot(page, result, k, deadline, metadata)
        return result.model_copy(update={"metadata": metadata, "screenshot": screenshot,
                                         "page_url": analysis.page_url or page.url})

    async def _screenshot(self, page: Page, result: SearchResult, k: int, deadline: float,
                          metadata: dict[str, Any]) -> bytes:
        loop = asyncio.get_running_loop()
        full = self.options.screenshot == "full"
        hits = [(str((hit.raw or {}).get("href")), hit.title) for hit in result.hits[:k]]
        clip = await results_clip(page, hits, full=full)
        try:
            await page.wait_for_function(
                "() => Array.from(document.images).every(i => i.complete)", polling=100,
                timeout=max(0.1, min(_IMAGES_WAIT_S, deadline - loop.time())) * 1000)
        except PlaywrightTimeoutError:
            metadata["screenshot_images_pending"] = True  # some thumbnails still loading
        metadata["screenshot_clip"] = clip
        timeout = max(1.0, deadline - loop.time()) * 1000
        return await page.screenshot(type="png", full_page=full, clip=clip, timeout=timeout)

    def _save_html(self, content: str, analysis: PageAnalysis) -> Path:
        target = self.options.save_html
        assert target is not None
        if self.options.save_html_is_dir or target.is_dir():
            stamp = f"{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:6]}"
            target = target / f"lens-{analysis.state.kind.value}-{stamp}.html"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content, encoding="utf-8")
        logger.info("Saved the Google Lens page (%s) to %s", analysis.state.kind.value, target)
        return target


def _outside_hosts_pattern(hosts: frozenset[str]) -> re.Pattern[str]:
    """Matches http(s)/ws URLs whose host is not one of ``hosts`` (any port)."""
    names = "|".join(re.escape(host) for host in sorted(hosts))
    return re.compile(rf"^(?!(https?|wss?)://({names})(:\d+)?([/?#]|$))[a-z]+://")


def _card_count(analysis: PageAnalysis) -> int | None:
    return None if analysis.result is None else len(analysis.result.hits)


async def _document_status(page: Page) -> int | None:
    """The HTTP status of the page's current document (Navigation Timing)."""
    status = await page.evaluate(
        "() => performance.getEntriesByType('navigation')[0]?.responseStatus ?? null")
    return int(status) if isinstance(status, (int, float)) and status > 0 else None


def _reload_loop(page_url: str) -> PageAnalysis:
    state = PageState(PageKind.BLOCKED, "the page keeps reloading itself (Google's JavaScript "
                      "bot check is not letting this browser through)")
    return PageAnalysis(state, None, page_url)


def _is_interstitial(analysis: PageAnalysis) -> bool:
    reason = analysis.state.reason.lower()
    return "interstitial" in reason or "challenge" in reason


async def _navigated(page: Page, until: float) -> bool:
    """Whether the page navigates (an interstitial clearing itself) before ``until``."""
    timeout = max(0.0, until - asyncio.get_running_loop().time()) * 1000
    try:
        await page.wait_for_event("framenavigated", predicate=lambda f: f == page.main_frame,
                                  timeout=timeout)
    except PlaywrightTimeoutError:
        return False
    return True


def _http_error(query: QueryState, page_url: str, saved: Path | None) -> EngineError:
    where = f"'{redact_url(page_url)}'"
    extra = f" The page was saved to {saved}." if saved else ""
    if query.status == 429:
        return EngineRateLimitedError(
            f"Google Lens answered 429 Too Many Requests at {where}. Wait a few minutes, "
            f"lower max_concurrency, or run `rir login`.{extra}", engine=ENGINE)
    return EngineError(
        f"Google Lens answered HTTP {query.status} at {where}. Retry later; if it persists, "
        f"Google may be having trouble or blocking this network.{extra}", engine=ENGINE)
