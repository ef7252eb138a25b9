"""``parse_lens_html``: a Google Lens results page in, a :class:`SearchResult` out.

A pure function (no network, no browser), so saved pages can be checked
offline. Block and consent pages raise :class:`EngineBlockedError`, pages it
cannot make sense of raise :class:`EngineError`, and an explicit "no matches"
page returns an empty result: an empty answer is never a guess.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

from lxml import etree

from rir.engines.google_lens import hints
from rir.engines.google_lens.cards import Card, find_cards, page_key
from rir.engines.google_lens.completeness import list_end, page_udm
from rir.engines.google_lens.dom import load_document, visible_text
from rir.engines.google_lens.overview import read_overview
from rir.engines.google_lens.states import (
    ENGINE,
    PageKind,
    PageState,
    blocked_error,
    degraded_error,
    detect_state,
    unknown_page_error,
)
from rir.engines.google_lens.thumbnails import read_image_maps
from rir.results.models import MatchType, SearchHit, SearchResult
from rir.urls import canonical_url, site_of

__all__ = ["UDM_VIEWS", "PageAnalysis", "analyse_lens_html", "parse_lens_html"]

# Lens's tabs in Google Search, by their ``udm`` parameter.
_UDM_MATCH_TYPES: dict[str, MatchType] = {"48": "exact", "44": "visual", "26": "visual",
                                           "37": "product"}
# ... and the view names ``match_type`` uses for them.
UDM_VIEWS: dict[str, str] = {"26": "all", "44": "visual", "48": "exact", "37": "products"}
_SECTION_MATCH_TYPES: dict[str, MatchType] = {
    "visual": "visual", "exact": "exact", "product": "product",
}
_MAX_WEB_RESULTS = 20


@dataclass
class PageAnalysis:
    """What a page is, and its result when it has one (results or no results)."""

    state: PageState
    result: SearchResult | None
    page_url: str | None = None

    def raise_for_state(self, *, saved_to: str | None = None,
                        retried: bool = False) -> SearchResult:
        """The result, or the error the page's state calls for."""
        if self.state.kind in (PageKind.BLOCKED, PageKind.CONSENT):
            raise blocked_error(self.state, self.page_url)
        if self.state.kind in (PageKind.DEGRADED, PageKind.NO_IMAGE_AT_URL):
            raise degraded_error(self.state, self.page_url, retried=retried)
        if self.result is None:
            raise unknown_page_error(self.state, self.page_url, saved_to)
        return self.result


def _page_match_type(doc: etree._Element, page_url: str | None) -> MatchType:
    """Which Lens tab the page is: its ``udm`` parameter, else the selected tab's label."""
    if page_url:
        udm = parse_qs(urlsplit(page_url).query).get("udm", [""])[0]
        if udm in _UDM_MATCH_TYPES:
            return _UDM_MATCH_TYPES[udm]
    for element in doc.xpath("//*[@aria-current='page' or @aria-selected='true']"):
        kind = hints.section_kind(visible_text(element))
        if kind in _SECTION_MATCH_TYPES:
            return _SECTION_MATCH_TYPES[kind]
    return "visual"


def _hit(card: Card, match_type: MatchType) -> SearchHit:
    kind = _SECTION_MATCH_TYPES.get(card.section or "", match_type)
    metadata: dict[str, Any] = {"site": site_of(card.url)}
    if card.price:
        metadata["price"] = card.price
    if kind == "product" and card.site:
        metadata["merchant"] = card.site
    return SearchHit(
        title=card.title,
        url=card.url,
        source=card.site or site_of(card.url) or None,
        thumbnail_url=card.thumbnail,
        snippet=card.snippet,
        match_type=kind,
        width=card.width,
        height=card.height,
        engine=ENGINE,
        metadata=metadata,
        raw={"href": card.href, "section": card.section},
    )


def _web_results(cards: list[Card]) -> list[dict[str, Any]]:
    seen: set[str] = set()
    results = []
    for card in cards:
        key = page_key(card.url)
        if card.kind not in ("web", "video") or key in seen:
            continue
        seen.add(key)
        results.append({"title": card.title, "url": card.url, "source": card.site,
                        "snippet": card.snippet, "kind": card.kind})
    return results[:_MAX_WEB_RESULTS]


def analyse_lens_html(page: str, *, page_url: str | None = None) -> PageAnalysis:
    """Classify ``page`` and, for a results or no-results page, build its result."""
    doc = load_document(page)
    cards = find_cards(doc, read_image_maps(page)) if doc is not None else []
    image_cards = [c for c in cards if c.kind == "image"]
    state = detect_state(doc, page, page_url, card_count=len(image_cards),
                         other_cards=sum(c.kind in ("web", "video", "ai_overview")
                                         for c in cards))
    if doc is None or state.kind not in (PageKind.RESULTS, PageKind.NO_RESULTS):
        return PageAnalysis(state, None, page_url)
    match_type = _page_match_type(doc, page_url)
    hits: list[SearchHit] = []
    seen: set[str] = set()
    for card in image_cards:
        key = canonical_url(card.url)
        if key not in seen:
            seen.add(key)
            hits.append(_hit(card, match_type).model_copy(update={"position": len(hits) + 1}))
    overview = read_overview(doc)
    udm = page_udm(page_url)
    metadata: dict[str, Any] = {
        "page_state": state.kind.value,
        "match_type": match_type,
        "udm": udm,
        "view": UDM_VIEWS.get(udm or ""),
        "card_count": len(hits),
        "untitled_cards": sum(c.kind == "untitled" for c in cards),
        "list_end": list_end([c.anchor for c in image_cards if c.anchor is not None], udm),
        "skipped": {kind: sum(c.kind == kind for c in cards)
                    for kind in ("web", "video", "ai_overview")},
    }
    if state.kind is PageKind.NO_RESULTS:
        metadata["no_results_reason"] = state.reason
    if overview.text:
        metadata["ai_overview"] = overview.text
    web = _web_results(cards)
    if web:
        metadata["web_results"] = web
    result = SearchResult(
        hits=hits,
        best_guess=overview.best_guess,
        entities=overview.entities + overview.related,
        engine=ENGINE,
        page_url=page_url,
        metadata=metadata,
    )
    return PageAnalysis(state, result, page_url)


def parse_lens_html(html: str, *, page_url: str | None = None) -> SearchResult:
    """Parse a Google Lens results page (HTML as served or as saved from a browser).

    Returns the visual (or exact) matches as hits, in page order, with title,
    absolute URL (Google redirect wrappers removed), site name and thumbnail where
    the page carries one; ``best_guess``/``entities`` come from the AI overview and
    related searches. ``page_url`` (where the page was loaded from) helps tell the
    Lens tab and block pages apart.

    Raises:
        EngineBlockedError: a block page (``/sorry/``, captcha, "unusual traffic",
            JavaScript interstitial) or a consent wall.
        EngineError: a page that is neither results nor an explicit "no results".
    """
    return analyse_lens_html(html, page_url=page_url).raise_for_state()
