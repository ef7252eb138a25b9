"""When to trust a Lens read, when to read more, and when to send the query again.

The engine's flow (``engine.py``) asks these questions at fixed points:

* a results page arrives off the network: take it, or hand it over to the rendered
  page because it looks thin (:func:`hand_over_reason`);
* the All view's preview offers more than it shows and ``k`` wants more: move on to
  the Visual matches view (:func:`wants_visual_view`);
* a rendered page is short of ``k``: scroll it until it holds ``k`` hits or stops
  growing, within the deadline (:func:`scroll_for_more`);
* a page is not Lens' answer (degraded, an unusable image URL): send the query again
  by its rule (:func:`retry_rule`);
* the result goes out: say whether it is all there is (:func:`completeness`).
"""

from __future__ import annotations

import html as html_lib
import logging
import re
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from playwright.async_api import Page

from rir.engines.google_lens.completeness import (
    END,
    MORE,
    bare_reason,
    locale_warnings,
    short_reason,
)
from rir.engines.google_lens.options import VIEW_UDM, LensOptions
from rir.engines.google_lens.page_flow import page_html, scroll_once
from rir.engines.google_lens.parse_worker import PageParser
from rir.engines.google_lens.parser import PageAnalysis
from rir.engines.google_lens.query_state import QueryState
from rir.engines.google_lens.states import ENGINE, PageKind
from rir.errors import EngineError
from rir.results.models import SearchResult
from rir.urls import redact_url

__all__ = [
    "completeness",
    "hand_over_reason",
    "retry_rule",
    "scroll_for_more",
    "view_url",
    "wants_visual_view",
]

logger = logging.getLogger(__name__)

# How long a scroll to the bottom may take to bring new cards before the list counts
# as ended (Lens fetches its next batch in well under a second).
SCROLL_WAIT_S = 1.5
READ_MARGIN_S = 1.0  # of timeout_s, kept for reading the page after the last scroll
_VIEW_NAMES = {udm: name for name, udm in VIEW_UDM.items()}


def _offers_visual_view(options: LensOptions, result: SearchResult) -> bool:
    """An All-view page whose preview says more matches exist (match_type "all")."""
    return (options.match_type == "all" and result.metadata.get("view") == "all"
            and result.metadata.get("list_end") == MORE)


def hand_over_reason(options: LensOptions, analysis: PageAnalysis, *, k: int) -> str | None:
    """Why a results page read off the network should be rendered instead (None: it is
    whole, or the engine moves on to the Visual matches view anyway)."""
    result = analysis.result
    if result is None:
        return None
    bare = bare_reason(result)
    if bare:
        return bare
    if _offers_visual_view(options, result):
        return None
    return short_reason(result, k)


def wants_visual_view(options: LensOptions, analysis: PageAnalysis, k: int,
                      query: QueryState) -> bool:
    result = analysis.result
    return (analysis.state.kind is PageKind.RESULTS and result is not None
            and len(result.hits) < k and _offers_visual_view(options, result)
            and VIEW_UDM["visual"] not in query.views)


async def scroll_for_more(page: Page, parser: PageParser, analysis: PageAnalysis, k: int,
                          deadline: float, query: QueryState) -> PageAnalysis:
    """Scroll the rendered page until it holds ``k`` hits or stops growing.

    Bounded by the query's deadline (minus a moment to read the page); a scroll the
    deadline cut short leaves the result marked incomplete.
    """
    result = analysis.result
    read_by = deadline - READ_MARGIN_S
    while result is not None and len(result.hits) < k \
            and result.metadata.get("list_end") != END:
        grew = await scroll_once(page, SCROLL_WAIT_S, read_by)
        if grew is None:
            break
        if not grew:
            query.scrolled_to_end = True
            break
        content = await page_html(page, slim=True)
        scrolled = await parser.analyse(content, page_url=page.url)
        if scrolled.state.kind is not PageKind.RESULTS or scrolled.result is None:
            break
        analysis, result = scrolled, scrolled.result
        query.scroll_counts.append(len(result.hits))
    return analysis


def retry_rule(analysis: PageAnalysis, query: QueryState) -> tuple[str, bool] | None:
    """Why and how to send the query again after a page that is not Lens' answer:
    ``(reason, as_upload)``, or None.

    A URL Google could not use is sent once more as the image's bytes (which the
    engine already holds: a URL query image is downloaded through the SSRF-guarded
    fetch before any engine runs); a degraded page is retried once, the same way as
    before. Blocks are not retried here (hammering a block makes it last longer).
    """
    kind, reason = analysis.state.kind, analysis.state.reason
    if kind is PageKind.NO_IMAGE_AT_URL and query.opened_by == "url" \
            and not query.upload_retried:
        query.upload_retried = True
        return f"/uploadbyurl could not use the URL ({reason}); retrying as an upload", True
    if kind in (PageKind.DEGRADED, PageKind.NO_IMAGE_AT_URL) and not query.degraded_retried:
        query.degraded_retried = True
        return f"degraded page ({reason}); retrying once", query.opened_by == "upload"
    return None


def completeness(options: LensOptions, result: SearchResult, k: int, query: QueryState,
                 page_url: str) -> dict[str, Any]:
    """``complete`` (the list visibly ended or k was reached), the card counts seen,
    the hand-overs and the language/region Google used."""
    ended = result.metadata.get("list_end") == END or query.scrolled_to_end \
        or result.metadata.get("page_state") == PageKind.NO_RESULTS.value
    found: dict[str, Any] = {
        "complete": len(result.hits) >= k or ended,
        "card_counts": query.card_counts(),
    }
    if query.handovers:
        found["handovers"] = list(query.handovers)
    found.update(locale_warnings(page_url, options.hl, options.country))
    for warning in found.get("warnings", ()):
        logger.warning("Google Lens: %s (%s)", warning, redact_url(page_url))
    return found


def view_url(page_url: str, content: str, udm: str) -> str:
    """The same Lens results in the view ``udm`` (26 all, 44 visual, 48 exact, 37 products)."""
    parts = urlsplit(page_url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    if any(key == "udm" for key, _ in query):
        query = [(key, udm if key == "udm" else value) for key, value in query]
        return urlunsplit(parts._replace(query=urlencode(query)))
    match = re.search(rf'href="([^"]*[?&;]udm={udm}(?![0-9])[^"]*)"', content)
    if match:
        return urljoin(page_url, html_lib.unescape(match.group(1)))
    name = _VIEW_NAMES.get(udm, udm)
    raise EngineError(
        f"match_type={name!r} but the Lens results page at '{redact_url(page_url)}' has no "
        f"link to that view (udm={udm}); Google may have changed its layout. Use "
        "match_type='all'.", engine=ENGINE)
