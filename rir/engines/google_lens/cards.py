"""Finding result cards on a Lens page by structure, not by class names.

A result card is a link to a page outside Google that holds a title (a heading,
or the main text of the link) and usually a site label beside a site icon and a
thumbnail. Around each link we take its *card*: the largest enclosing element
that links to no other page, which is where the thumbnail and extra text live.
Cards are then sorted into kinds:

* ``image``: the visual / exact matches we return as hits;
* ``web``: classic web results and video results, recognised by their ``<cite>``
  breadcrumb (kept in metadata, never mixed into hits);
* ``video``: cards with a play-length badge ("13:03");
* cards under an "AI Overview" heading are dropped: they are the overview's sources;
* ``untitled``: a thumbnail with no text at all (a card its scripts have not filled
  in yet), counted so a thin read can be told from a whole one, never a hit.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

from lxml import etree

from rir.engines.google_lens import hints
from rir.engines.google_lens.dom import (
    heading_level,
    in_landmark,
    is_heading,
    norm,
    text_blocks,
    visible_text,
)
from rir.engines.google_lens.thumbnails import ImageMaps, is_favicon, thumbnail_of
from rir.urls import canonical_url, unwrap_redirect

__all__ = ["Card", "find_cards", "is_google_internal", "page_key"]

_GOOGLE = re.compile(r"(^|\.)google\.[a-z]{2,3}(\.[a-z]{2})?$")
# Google hosts that are Google itself (search, help, sign-in), not publishers.
# Product pages (chromewebstore.google.com, play.google.com, sites.google.com ...)
# are legitimate results and stay.
_GOOGLE_SURFACES = frozenset({
    "", "www", "lens", "consent", "accounts", "support", "policies", "labs", "myactivity",
    "myaccount", "ogs", "adssettings", "images", "maps", "translate", "news", "webcache",
    "ipv4", "ipv6", "encrypted",
})
_GOOGLE_OTHER = re.compile(
    r"(^|\.)(gstatic\.com|googleusercontent\.com|googleadservices\.com|doubleclick\.net|"
    r"googlesyndication\.com|g\.co|goo\.gl|googleapis\.com)$"
)
_DURATION = re.compile(r"^\d{1,2}:\d{2}(:\d{2})?$")
# A price as product cards show it: "$24.99", "US$ 1,299", "24,99 €", "£8", "From $12".
_PRICE = re.compile(
    r"^(?:from\s+)?(?:(?:[A-Z]{1,3})?[$€£¥₹]\s?\d[\d.,\s]*|\d[\d.,\s]*\s?(?:[$€£¥₹]|zł|kr|"
    r"USD|EUR|GBP|CHF))$", re.IGNORECASE)
_DIMENSIONS = re.compile(r"^(\d{2,5})\s*[x×]\s*(\d{2,5})$")
_BREADCRUMB = re.compile(r"^https?://\S+|\s›\s")
_MAX_SITE_CHARS = 80
_MAX_CLIMB = 14
_TIME_PARAMS = re.compile(r"(?<=[?&])(t|start|time_continue)=[^&]*&?")


@dataclass
class Card:
    """One result card found on the page."""

    url: str
    href: str
    title: str
    kind: str  # "image" | "web" | "video" | "ai_overview" | "untitled"
    section: str | None
    site: str | None = None
    thumbnail: str | None = None
    snippet: str | None = None
    width: int | None = None
    height: int | None = None
    price: str | None = None
    anchor: etree._Element | None = field(default=None, repr=False)


def is_google_internal(url: str) -> bool:
    """Links to Google's own surfaces (search, help, sign-in, images CDN)."""
    host = (urlsplit(url).hostname or "").lower()
    match = _GOOGLE.search(host)
    if match:
        return host[: match.start()].rstrip(".") in _GOOGLE_SURFACES
    return bool(_GOOGLE_OTHER.search(host))


@functools.lru_cache(maxsize=4096)
def _target(href: str) -> str | None:
    """The page a result link leads to, or None for Google-internal links and ads."""
    href = href.strip()
    if not href or href.startswith(("#", "javascript:", "mailto:", "tel:", "data:")):
        return None
    # Relative links on a Lens page are Google's own (/search, /url?q=...), so they
    # are resolved against Google, whatever host served the page.
    absolute = urljoin("https://www.google.com/", href)
    parts = urlsplit(absolute)
    if parts.path == "/aclk" or "googleadservices" in (parts.hostname or ""):
        return None  # an ad
    url = unwrap_redirect(absolute)
    try:
        target = urlsplit(url)
    except ValueError:
        return None
    if target.scheme not in ("http", "https") or not target.hostname:
        return None
    if ":~:text=" in target.fragment:
        return None  # a "Read more" link into a snippet; its card has the plain link
    return None if is_google_internal(url) else url


def _links_in_document_order(doc: etree._Element) -> list[tuple[etree._Element, str, str | None]]:
    """External links with their section kind (from the nearest heading before them)."""
    links: list[tuple[etree._Element, str, str | None]] = []
    section: str | None = None
    for element in doc.iter():
        if not isinstance(element.tag, str):
            continue
        if is_heading(element) and heading_level(element) <= 2 and not in_landmark(element):
            # Every top-level heading starts a section, named or not, so an unfamiliar
            # heading ends the AI overview instead of extending it over the results.
            text = visible_text(element)
            if text:
                section = hints.section_kind(text)
        if element.tag == "a":
            url = _target(element.get("href") or "")
            if url is not None and not in_landmark(element):
                links.append((element, url, section))
    return links


def page_key(url: str) -> str:
    """Which page a link is about: time offsets (YouTube ``t=``) point into the same page."""
    key = canonical_url(url)
    return _TIME_PARAMS.sub("", key).rstrip("?&")


def _card_roots(links: list[tuple[etree._Element, str, str | None]]) -> dict[int, etree._Element]:
    """For each link (by index), the largest ancestor that links to no other page."""
    pages_under: dict[etree._Element, set[str]] = {}
    keys = [page_key(url) for _, url, _ in links]
    for (anchor, _, _), key in zip(links, keys, strict=True):
        for ancestor in anchor.iterancestors():
            pages_under.setdefault(ancestor, set()).add(key)
    roots: dict[int, etree._Element] = {}
    for index, (anchor, _, _) in enumerate(links):
        root = anchor
        for _ in range(_MAX_CLIMB):
            parent = root.getparent()
            if parent is None or parent.tag in ("body", "html") or len(pages_under[parent]) > 1:
                break
            root = parent
        roots[index] = root
    return roots


def _site_label(blocks: list[tuple[etree._Element, str]], title_element: etree._Element | None,
                title: str, favicons: list[etree._Element]) -> str | None:
    """The site name: the text beside a site icon, else the first short extra text."""
    in_title = set(title_element.iter()) if title_element is not None else set()
    candidates = [(el, text) for el, text in blocks
                  if len(text) <= _MAX_SITE_CHARS and not _is_meta(text) and el not in in_title]
    for icon in favicons:
        box = icon
        for _ in range(4):
            box = box.getparent()
            if box is None:
                break
            # Beside the icon the label may even repeat the title (a site named
            # after its page); elsewhere a copy of the title is not a site name.
            inside = set(box.iter())
            near = [text for el, text in candidates if el in inside]
            if near:
                return near[0]
    others = [text for _, text in candidates if text != title]
    return others[0] if others else None


def _is_meta(text: str) -> bool:
    return bool(_DURATION.match(text) or _DIMENSIONS.match(text) or _BREADCRUMB.search(text))


def _title(anchor: etree._Element, blocks: list[tuple[etree._Element, str]],
           has_thumbnail: bool) -> tuple[etree._Element | None, str]:
    """The card's title and the element holding it (None when taken from an attribute)."""
    for element in anchor.iter():
        if isinstance(element.tag, str) and is_heading(element):
            text = visible_text(element)
            if text:
                return element, text
    texts = [(el, text) for el, text in blocks if not _is_meta(text)]
    classes = (anchor.get("class") or "").split()
    hinted = any(c in classes for key in ("visual_card_link", "exact_card_link")
                 for c in hints.HINTS[key])
    if len(texts) >= 2 or (texts and (has_thumbnail or hinted)):
        return max(texts, key=lambda pair: len(pair[1]))
    # A link around a thumbnail (and nothing else) names its page in aria-label /
    # title. Empty overlay links (the AI overview's sources) have labels too but
    # wrap nothing, so they are not taken for cards.
    if any(not is_favicon(image) for image in anchor.iter("img")):
        return None, norm(anchor.get("aria-label") or anchor.get("title"))
    return None, ""


def _images(root: etree._Element) -> tuple[list[etree._Element], list[etree._Element]]:
    favicons, thumbnails = [], []
    for image in root.iter("img"):
        (favicons if is_favicon(image) else thumbnails).append(image)
    return favicons, thumbnails


def _kind(root: etree._Element, blocks: list[tuple[etree._Element, str]],
          section: str | None) -> str:
    overview_ids = hints.HINTS["ai_overview"]
    if section == "ai_overview" or root.get("id") in overview_ids or any(
            element.get("id") in overview_ids for element in root.iterancestors()):
        return "ai_overview"
    if section == "video" or any(_DURATION.match(text) for _, text in blocks):
        return "video"
    if next(root.iter("cite"), None) is not None:
        return "web"
    return "image"


@dataclass
class _Root:
    favicons: list[etree._Element]
    thumbnails: list[etree._Element]
    blocks: list[tuple[etree._Element, str]]
    kind: str


def _describe_root(root: etree._Element, section: str | None) -> _Root:
    favicons, thumbnails = _images(root)
    blocks = text_blocks(root)
    return _Root(favicons, thumbnails, blocks, _kind(root, blocks, section))


def find_cards(doc: etree._Element, maps: ImageMaps) -> list[Card]:
    """Every result card on the page, in page order, duplicates included."""
    links = _links_in_document_order(doc)
    roots = _card_roots(links)
    described: dict[etree._Element, _Root] = {}  # links of one card share its root
    cards: list[Card] = []
    # Cards with a thumbnail and no text at all: skeletons whose scripts add the title.
    bare_roots: dict[etree._Element, tuple[str, etree._Element]] = {}
    titled_roots: set[etree._Element] = set()
    for index, (anchor, url, section) in enumerate(links):
        root = roots[index]
        info = described.get(root)
        if info is None:
            info = described[root] = _describe_root(root, section)
        anchor_blocks = text_blocks(anchor)
        title_element, title = _title(anchor, anchor_blocks, bool(info.thumbnails))
        if not title:
            if info.kind == "image" and info.thumbnails and not info.blocks:
                bare_roots.setdefault(root, (url, anchor))
            continue
        titled_roots.add(root)
        in_anchor = set(anchor.iter("img"))
        site = _site_label(anchor_blocks, title_element, title,
                           [f for f in info.favicons if f in in_anchor])
        if site is None:
            site = _site_label(info.blocks, title_element, title, info.favicons)
        width = height = None
        price = None
        extras: list[str] = []
        for _, text in info.blocks:
            dims = _DIMENSIONS.match(text)
            if dims:
                width, height = int(dims.group(1)), int(dims.group(2))
            elif price is None and text != title and _PRICE.match(text):
                price = text
            elif (text not in (title, site) and not _is_meta(text) and title not in text
                  and text not in extras):
                extras.append(text)
        thumbnail = next((t for t in (thumbnail_of(i, maps) for i in info.thumbnails) if t), None)
        cards.append(Card(
            url=url, href=anchor.get("href") or "", title=title, kind=info.kind,
            section=section, site=site, thumbnail=thumbnail,
            snippet=" · ".join(extras)[:300] or None, width=width, height=height, price=price,
            anchor=anchor,
        ))
    cards.extend(Card(url=url, href=anchor.get("href") or "", title="", kind="untitled",
                      section=None, anchor=anchor)
                 for root, (url, anchor) in bare_roots.items() if root not in titled_roots)
    return cards
