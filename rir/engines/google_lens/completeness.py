"""Whether a Lens results list is all there is, and when a read looks too thin to trust.

Lens never says how many matches it has. What a page does show:

* after the visual-matches preview of the All view (``udm=26``) a "See more"
  control when more exist (the real 2026 page: 60 cards, then "See more", which
  leads to the Visual matches view); no such control means the preview is the
  whole list;
* on the scrolling views (visual 44, exact 48, products 37) more cards arrive
  as the page is scrolled, so only an end-of-list message, or a scroll to the
  bottom that brought nothing new, shows the end;
* pages whose cards lack thumbnails were sent before their scripts filled them in.

:func:`list_end` reads the first two off a parsed page, :func:`thin_reason`
says why a read should not be trusted as complete for ``k`` hits, and
:func:`effective_locale` says which language and region Google actually used.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from lxml import etree

from rir.engines.google_lens import hints
from rir.engines.google_lens.dom import in_landmark, is_heading, norm, visible_text
from rir.results.models import SearchResult

__all__ = [
    "ALL_VIEW",
    "END",
    "MORE",
    "effective_locale",
    "list_end",
    "page_udm",
    "thin_reason",
]

MORE = "more"  # the page offers more cards than it shows
END = "end"  # the page shows the end of its list
ALL_VIEW = "26"
_MAX_CLIMB = 8
_MAX_CONTROL_CHARS = 40
# "Many cards without a thumbnail" is judged on the top of the list: Lens inlines the
# first dozen thumbnails in the HTML and loads the rest as they scroll into view
# (the real page: 12 of 60 inlined), so bare cards further down are normal.
_BARE_TOP = 8
_BARE_MIN_HITS = 4
_BARE_SHARE = 0.5


def page_udm(page_url: str | None) -> str | None:
    """The view (``udm`` parameter) of a results page URL, if it has one."""
    if not page_url:
        return None
    values = parse_qs(urlsplit(page_url).query).get("udm")
    return values[0] if values else None


def effective_locale(page_url: str | None) -> tuple[str | None, str | None]:
    """The ``hl`` and ``gl`` the final results URL carries (Google's choice, not ours)."""
    if not page_url:
        return None, None
    query = parse_qs(urlsplit(page_url).query)
    hl = query.get("hl", [None])[0]
    gl = query.get("gl", [None])[0]
    return hl, gl.lower() if gl else None


def _is_more_control(element: etree._Element) -> bool:
    text = norm(visible_text(element)).lower()
    if text and len(text) <= _MAX_CONTROL_CHARS and any(
            text == label or text.startswith(label + " ") for label in hints.MORE_RESULTS_LABELS):
        return True
    return any(e.get("role") == "progressbar" for e in element.iter() if isinstance(e.tag, str))


def _holds_card_or_heading(element: etree._Element, anchors: set[etree._Element]) -> bool:
    return any(e in anchors or (isinstance(e.tag, str) and is_heading(e))
               for e in element.iter())


def list_end(anchors: list[etree._Element], udm: str | None) -> str | None:
    """:data:`MORE`, :data:`END` or None (the page does not say) for the image-card list.

    ``anchors`` are the image cards' links in page order. Only what follows the list
    is read (a "See more" control, an end-of-list message, a link on to the Visual
    matches view), not the whole page: this runs on every results page.
    """
    if not anchors:
        return None
    members = set(anchors)
    last = {anchors[-1], *anchors[-1].iterancestors()}
    grid: etree._Element | None = anchors[0]
    while grid is not None and grid not in last:
        grid = grid.getparent()
    # The controls that follow the list: the next siblings of the grid and of its
    # ancestors, up to the first other content (a heading, a card, any text).
    element = grid
    for _ in range(_MAX_CLIMB):
        if element is None or element.tag in ("body", "html"):
            break
        sibling = element.getnext()
        while sibling is not None:
            if isinstance(sibling.tag, str):
                if _is_more_control(sibling):
                    return MORE
                text = visible_text(sibling).lower()
                if any(phrase in text for phrase in hints.END_OF_LIST_PHRASES):
                    return END
                if text or _holds_card_or_heading(sibling, members):
                    element = None  # other content follows: no control for this list
                    break
            sibling = sibling.getnext()
        element = element.getparent() if element is not None else None
    # A link on to the Visual matches view below the list (not the tab bar above it).
    if grid is not None and any(not in_landmark(a) for a in grid.xpath(
            "following::a[contains(@href, 'udm=44')]")):
        return MORE
    # The All view's preview shows everything when it offers no more; the scrolling
    # views do not say (their next cards come with a scroll).
    return END if (udm or ALL_VIEW) == ALL_VIEW else None


def bare_reason(result: SearchResult) -> str | None:
    """Why the list looks unfinished: many cards without a title (skeletons whose
    scripts add the text), or a top of the list without thumbnails."""
    untitled = int(result.metadata.get("untitled_cards") or 0)
    if untitled >= _BARE_MIN_HITS and untitled >= _BARE_SHARE * (untitled + len(result.hits)):
        return f"{untitled} cards have a thumbnail but no title yet (filled in by script)"
    top = result.hits[:_BARE_TOP]
    bare = sum(1 for hit in top if not hit.thumbnail_url)
    if len(top) >= _BARE_MIN_HITS and bare >= _BARE_SHARE * len(top):
        return f"{bare} of the first {len(top)} cards have no thumbnail (filled in by script)"
    return None


def short_reason(result: SearchResult, k: int) -> str | None:
    """Why ``result`` may hold fewer hits than exist for ``k``; None if it is enough."""
    hits = len(result.hits)
    if hits >= k or result.metadata.get("list_end") == END:
        return None
    if result.metadata.get("list_end") == MORE:
        return f"{hits} hits < k={k} and the page offers more"
    return f"{hits} hits < k={k} and no end-of-list sign"


def thin_reason(result: SearchResult, k: int) -> str | None:
    """Why ``result`` (one read of a page) may hold less than exists; None if it is whole."""
    return bare_reason(result) or short_reason(result, k)


def locale_warnings(page_url: str | None, hl: str, country: str | None) -> dict[str, object]:
    """``effective_hl``/``effective_gl`` from the final URL, and a warning when they
    differ from what was asked (Google picks the region by IP and may ignore ``gl``)."""
    effective_hl, effective_gl = effective_locale(page_url)
    found: dict[str, object] = {"effective_hl": effective_hl, "effective_gl": effective_gl}
    warnings = []
    if effective_hl and effective_hl.lower().replace("_", "-") != hl.lower().replace("_", "-"):
        warnings.append(f"asked for hl={hl!r} but Google served hl={effective_hl!r}")
    if country and effective_gl and effective_gl != country.lower():
        warnings.append(f"asked for country={country!r} but Google served gl={effective_gl!r}")
    if warnings:
        found["warnings"] = warnings
    return found
