"""Caption enrichment: fetch the top result pages and pull the caption of the matching image.

Reverse image search engines return page titles; the words next to the picture
on the page (its ``<figcaption>``, its alt text) usually say much more about what
it shows. :func:`enrich_captions` fetches the top N hit pages through
:func:`rir.inputs.urlfetch.fetch_url` (SSRF guard, byte cap, deadline; HTML only) with
bounded concurrency, finds the ``<img>`` whose address matches the hit's image
(same URL or same file name, ignoring thumbnail size prefixes such as
``330px-``), and takes, in order of preference:

1. the ``<figcaption>`` of the enclosing ``<figure>``;
2. a caption-like element next to it (class or id containing ``caption``);
3. its alt text (or title attribute), when it is prose rather than a file name;
4. the page's ``og:description`` / ``twitter:description`` / meta description.

Image-specific captions (1-3) replace the hit's snippet (the old one is kept in
``metadata["engine_snippet"]``); a page-level description (4) only fills an
empty snippet. A page that fails (timeout, block, not HTML, unparsable) is
skipped and listed in ``result.metadata["enrichment"]["failed"]``.
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass
from pathlib import PurePosixPath
from urllib.parse import unquote, urljoin, urlsplit

from bs4 import BeautifulSoup, Tag

from rir.errors import RIRError
from rir.inputs.urlfetch import fetch_url
from rir.results.models import SearchHit, SearchResult
from rir.urls import redact_url, unwrap_redirect

__all__ = ["Caption", "aenrich_hit", "enrich_captions", "extract_caption"]

logger = logging.getLogger(__name__)

MAX_CAPTION_CHARS = 500
_HTML_TYPES = ("text/html", "application/xhtml+xml")
_SIZE_PREFIX = re.compile(r"^(?:\d+px-|\d+x\d+[-_]|(?:thumb|small|medium|large)[-_])", re.I)
_SIZE_SUFFIX = re.compile(r"(?:[-_]\d+x\d+|[-_](?:scaled|thumb|small|medium|large))$", re.I)
_FILENAME_LIKE = re.compile(r"^[\w.-]+\.(?:jpe?g|png|gif|webp|svg|bmp|tiff?)$", re.I)
_SPACES = re.compile(r"\s+")
_CAPTION_CLASS = re.compile(r"caption", re.I)
_IMAGE_ATTRIBUTES = ("src", "data-src", "data-original", "data-lazy-src", "data-image")
_SRCSET_ATTRIBUTES = ("srcset", "data-srcset")
_META_DESCRIPTIONS = (("property", "og:description"), ("name", "twitter:description"),
                      ("name", "description"))


@dataclass(frozen=True)
class Caption:
    """A caption found on a page and where it came from.

    ``source``: ``"figcaption"``, ``"caption"``, ``"alt"``, ``"title"`` or
    ``"meta"``; ``image_matched`` says whether the text belongs to the matching
    image (else it describes the page).
    """

    text: str
    source: str
    image_matched: bool


# -- parsing -----------------------------------------------------------------------------------


def _clean(text: str | None) -> str:
    text = _SPACES.sub(" ", text or "").strip()
    if len(text) > MAX_CAPTION_CHARS:
        text = text[: MAX_CAPTION_CHARS - 1].rstrip() + "…"
    return text


def _file_key(url: str | None) -> str:
    """A comparable file name: ``.../330px-Grace_Hopper.jpg?x=1`` -> ``grace_hopper``."""
    if not url or url.startswith("data:"):
        return ""
    try:
        path = urlsplit(url).path
    except ValueError:
        return ""
    name = PurePosixPath(unquote(path)).name.lower()
    stem = name.rsplit(".", 1)[0] if "." in name else name
    stem = _SIZE_SUFFIX.sub("", _SIZE_PREFIX.sub("", stem))
    return stem if len(stem) >= 4 else ""


def _url_key(url: str) -> str:
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    return f"{(parts.hostname or '').lower()}{unquote(parts.path)}"


def _image_sources(img: Tag, page_url: str) -> list[str]:
    sources: list[str] = []
    for attribute in _IMAGE_ATTRIBUTES:
        value = img.get(attribute)
        if isinstance(value, str) and value.strip():
            sources.append(value.strip())
    owners: list[Tag] = [img]
    if isinstance(img.parent, Tag) and img.parent.name == "picture":
        owners += img.parent.find_all("source")
    for owner in owners:
        for attribute in _SRCSET_ATTRIBUTES:
            value = owner.get(attribute)
            if isinstance(value, str):
                sources += [c.strip().split(" ")[0] for c in value.split(",") if c.strip()]
    return [urljoin(page_url, s) for s in sources if not s.startswith("data:")]


def _find_matching_image(soup: BeautifulSoup, hit: SearchHit, page_url: str) -> Tag | None:
    targets = [u for u in (hit.image_url, hit.thumbnail_url) if u and not u.startswith("data:")]
    if not targets:
        return None
    url_keys = {_url_key(u) for u in targets}
    file_keys = {k for k in (_file_key(u) for u in targets) if k}
    by_file: Tag | None = None
    for img in soup.find_all("img"):
        for source in _image_sources(img, page_url):
            if _url_key(source) in url_keys:
                return img
            if by_file is None and _file_key(source) in file_keys:
                by_file = img
    return by_file


def _caption_near(img: Tag) -> Caption | None:
    figure = img.find_parent("figure")
    if figure is not None:
        figcaption = figure.find("figcaption")
        if figcaption is not None and (text := _clean(figcaption.get_text(" "))):
            return Caption(text, "figcaption", True)
    # Wikipedia thumbnails, WordPress blocks, news sites: a sibling with "caption" in its class.
    node: Tag | None = img
    for _ in range(4):
        node = node.parent if node is not None else None
        if not isinstance(node, Tag) or node.name in ("body", "html"):
            break
        for candidate in node.find_all(True, limit=40):
            names = " ".join(candidate.get("class") or []) + " " + str(candidate.get("id") or "")
            if candidate is not img and _CAPTION_CLASS.search(names):
                text = _clean(candidate.get_text(" "))
                if len(text) >= 3:
                    return Caption(text, "caption", True)
    for attribute, source in (("alt", "alt"), ("title", "title")):
        text = _clean(img.get(attribute) if isinstance(img.get(attribute), str) else "")
        if len(text) >= 4 and not _FILENAME_LIKE.match(text):
            return Caption(text, source, True)
    return None


def _page_description(soup: BeautifulSoup) -> Caption | None:
    for attribute, value in _META_DESCRIPTIONS:
        tag = soup.find("meta", attrs={attribute: value})
        content = tag.get("content") if isinstance(tag, Tag) else None
        if isinstance(content, str) and (text := _clean(content)):
            return Caption(text, "meta", False)
    return None


def extract_caption(html: bytes | str, hit: SearchHit, page_url: str | None = None,
                    *, encoding: str | None = None) -> Caption | None:
    """The caption nearest to ``hit``'s image on the page ``html``, or ``None``.

    ``page_url`` resolves relative image addresses (defaults to ``hit.url``).
    """
    soup = BeautifulSoup(html, "lxml", from_encoding=encoding if isinstance(html, bytes)
                         else None)
    for hidden in soup(["script", "style", "noscript", "template"]):
        hidden.decompose()
    base = page_url or hit.url or ""
    base_tag = soup.find("base", href=True)
    if isinstance(base_tag, Tag) and isinstance(base_tag.get("href"), str):
        base = urljoin(base, str(base_tag["href"]))
    img = _find_matching_image(soup, hit, base)
    if img is not None and (caption := _caption_near(img)) is not None:
        return caption
    return _page_description(soup)


# -- fetching ----------------------------------------------------------------------------------


def _accept_html(content_type: str) -> str | None:
    if content_type in _HTML_TYPES or content_type == "":
        return None
    return f"returned content of type '{content_type}', not an HTML page; nothing to caption."


def _charset(content_type_header: str) -> str | None:
    match = re.search(r"charset=[\"']?([\w.:-]+)", content_type_header, re.I)
    return match.group(1) if match else None


async def aenrich_hit(hit: SearchHit, *, timeout_s: float = 8.0, max_bytes: int = 2_000_000,
                      allow_private_urls: bool = False) -> SearchHit:
    """Fetch ``hit.url`` and return the hit with its caption (raises RIRError on fetch errors)."""
    url = unwrap_redirect(hit.url or "")
    response = await fetch_url(
        url, max_bytes=max_bytes, timeout_s=timeout_s,
        allow_private_urls=allow_private_urls, accept=_accept_html,
        headers={"Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5"},
    )
    encoding = _charset(response.headers.get("content-type", ""))
    caption = await asyncio.to_thread(extract_caption, response.content, hit, response.url,
                                      encoding=encoding)
    return _with_caption(hit, caption)


def _with_caption(hit: SearchHit, caption: Caption | None) -> SearchHit:
    if caption is None:
        return hit
    if not caption.image_matched and hit.snippet:
        return hit  # a page-level description never overrides the engine's own snippet
    metadata = {**hit.metadata, "caption_source": caption.source}
    if hit.snippet and hit.snippet != caption.text:
        metadata["engine_snippet"] = hit.snippet
    return hit.model_copy(update={"snippet": caption.text, "metadata": metadata})


def _fetchable(hit: SearchHit) -> bool:
    return bool(hit.url) and unwrap_redirect(hit.url or "").startswith(("http://", "https://"))


async def enrich_captions(
    result: SearchResult,
    *,
    top_n: int,
    timeout_s: float = 8.0,
    concurrency: int = 4,
    max_bytes: int = 2_000_000,
    allow_private_urls: bool = False,
) -> SearchResult:
    """Caption the top ``top_n`` hits that link to a web page (``concurrency`` at a time,
    each page fetched within ``timeout_s`` and ``max_bytes``).

    Never raises for a page: failures are logged and reported in
    ``result.metadata["enrichment"] = {"attempted", "enriched", "failed": [{url, error}]}``.
    """
    chosen = [i for i, hit in enumerate(result.hits) if _fetchable(hit)][:top_n]
    semaphore = asyncio.Semaphore(max(1, concurrency))
    failed: list[dict[str, str]] = []

    async def one(index: int) -> tuple[int, SearchHit | None]:
        hit = result.hits[index]
        async with semaphore:
            try:
                return index, await aenrich_hit(hit, timeout_s=timeout_s, max_bytes=max_bytes,
                                                allow_private_urls=allow_private_urls)
            except RIRError as exc:
                error = f"{type(exc).__name__}: {exc}"
            except Exception as exc:  # noqa: BLE001 - untrusted HTML: a parser crash fails one page
                error = f"{type(exc).__name__} while parsing the page: {exc}"
        logger.info("caption enrichment skipped hit %d: %s", hit.position, error)
        failed.append({"url": redact_url(hit.url or ""), "error": error})
        return index, None

    outcomes = await asyncio.gather(*(one(i) for i in chosen))
    hits = list(result.hits)
    enriched = 0
    for index, new_hit in outcomes:
        if new_hit is not None:
            enriched += new_hit is not hits[index]
            hits[index] = new_hit
    report = {"attempted": len(chosen), "enriched": enriched,
              "failed": sorted(failed, key=lambda f: f["url"])}
    return result.model_copy(update={"hits": hits,
                                     "metadata": {**result.metadata, "enrichment": report}})

