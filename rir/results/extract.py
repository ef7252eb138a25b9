"""Information extraction from search hits: clean, filter, dedupe, and guess.

Framework-free post-processing applied by :class:`rir.ReverseImageSearch`:

* :func:`clean_title` strips site suffixes (" - Wikipedia", " | Britannica"),
  file-name noise and ellipses;
* :func:`canonical_url` and :func:`dedupe_hits` merge hits for the same page
  and near-identical titles (the duplicates' URLs are kept in metadata);
* ``allow_domains`` / ``deny_domains`` filter by site;
* :func:`~rir.results.best_guess.guess_from_titles` names what the image shows by n-gram voting
  across the hits' titles, or returns ``None`` when they do not agree;
* caption enrichment (``enrich_captions=N``) fetches the top pages and pulls
  the caption nearest to the matching image (see :mod:`rir.results.enrich`).

URL helpers (:func:`~rir.urls.canonical_url`, :func:`~rir.urls.site_of`, ...) live
in :mod:`rir.urls`.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher

from rir.results.best_guess import KNOWN_SITES, BestGuess, guess_from_titles
from rir.results.models import SearchHit, SearchResult
from rir.urls import canonical_url, domain_matches, site_of

__all__ = [
    "BestGuess",
    "ExtractOptions",
    "apostprocess",
    "clean_title",
    "dedupe_hits",
    "filter_domains",
    "guess_from_titles",
    "postprocess",
]


@dataclass(frozen=True)
class ExtractOptions:
    """How :func:`postprocess` cleans a result.

    Attributes:
        clean_titles: strip site suffixes, file-name noise and ellipses from titles.
        dedupe: merge hits with the same canonical URL or near-identical titles.
        allow_domains: keep only hits on these sites (and their subdomains).
        deny_domains: drop hits on these sites (and their subdomains).
        best_guess: fill ``best_guess`` by title consensus when the engine gave none.
        enrich_captions: fetch the top N result pages for captions (0 = off).
        enrich_timeout_s / enrich_concurrency / enrich_max_bytes: limits for enrichment.
    """

    clean_titles: bool = True
    dedupe: bool = True
    allow_domains: tuple[str, ...] | None = None
    deny_domains: tuple[str, ...] = ()
    best_guess: bool = True
    enrich_captions: int = 0
    enrich_timeout_s: float = 8.0
    enrich_concurrency: int = 4
    enrich_max_bytes: int = 2_000_000
    title_similarity: float = field(default=0.92, repr=False)

    def __post_init__(self) -> None:
        for name in ("allow_domains", "deny_domains"):
            value = getattr(self, name)
            if isinstance(value, str):
                object.__setattr__(self, name, (value,))
            elif value is not None:
                object.__setattr__(self, name, tuple(value))
        if self.enrich_captions < 0:
            raise ValueError("enrich_captions must be >= 0")


# -- sites ---------------------------------------------------------------------------------------


def filter_domains(
    hits: Sequence[SearchHit],
    *,
    allow: Iterable[str] | None = None,
    deny: Iterable[str] = (),
) -> list[SearchHit]:
    """Keep hits whose page is on an allowed site and not on a denied one."""
    allow = list(allow) if allow is not None else None
    deny = list(deny)
    kept = []
    for hit in hits:
        host = site_of(hit.url or hit.image_url)
        if allow is not None and not domain_matches(host, allow):
            continue
        if deny and domain_matches(host, deny):
            continue
        kept.append(hit)
    return kept


# -- titles ------------------------------------------------------------------------------------

_SUFFIX_SEPARATORS = re.compile(r"\s+(?:[-|–—·•:]|::|»)\s+")
_FILE_PREFIX = re.compile(r"^(?:file|image|datei|fichier|archivo):\s*", re.IGNORECASE)
_FILE_EXTENSION = re.compile(r"\.(?:jpe?g|png|gif|webp|svg|tiff?|bmp)$", re.IGNORECASE)
_ELLIPSIS = re.compile(r"\s*(?:\.\.\.|…)\s*$")
_SPACES = re.compile(r"\s+")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069]")


def _looks_like_site(segment: str, site: str) -> bool:
    text = segment.strip().lower()
    if not text:
        return True
    if text in KNOWN_SITES or re.fullmatch(r"[\w-]+(\.[\w-]+)+", text):
        return True
    site = site.lower()
    if site:
        base = site.split(".")[-2] if site.count(".") >= 1 else site
        squashed = re.sub(r"[^a-z0-9]", "", text)
        if squashed and (squashed == re.sub(r"[^a-z0-9]", "", base) or squashed in
                         re.sub(r"[^a-z0-9]", "", site)):
            return True
        words = re.findall(r"[a-z0-9]+", text)
        if words and len(words) <= 4 and set(words) <= set(re.findall(r"[a-z0-9]+", site)):
            return True  # "Yale News" on news.yale.edu
    return False


# Encyclopedia-style trailing segments that describe the page, not the subject
# ("Grace Hopper | Biography & Facts", "Eiffel Tower | History, Height, & Facts").
_DESCRIPTOR_WORDS = frozenset(
    """
    facts fact biography bio history height definition meaning overview summary pictures
    photos images location map diet habitat construction career life death family quotes
    and & significance achievements design architecture
    """.split()
)


def _is_descriptor(segment: str) -> bool:
    words = re.findall(r"[\w&]+", segment.lower())
    return bool(words) and all(w in _DESCRIPTOR_WORDS for w in words)


def clean_title(title: str | None, site: str | None = None) -> str:
    """Strip site suffixes, file-name noise, ellipses and stray whitespace from a title.

    >>> clean_title("Grace Hopper - Wikipedia")
    'Grace Hopper'
    >>> clean_title("File:Grace Hopper.jpg - Wikimedia Commons")
    'Grace Hopper'
    >>> clean_title("Eiffel Tower | Britannica")
    'Eiffel Tower'
    """
    if not title:
        return ""
    text = _CONTROL.sub("", html.unescape(unicodedata.normalize("NFC", title)))
    text = _SPACES.sub(" ", text).strip()
    text = _ELLIPSIS.sub("", text)
    for _ in range(3):  # "A - B - YouTube": strip trailing site segments one at a time
        pieces = _SUFFIX_SEPARATORS.split(text)
        if len(pieces) < 2 or not (_looks_like_site(pieces[-1], site or "")
                                   or _is_descriptor(pieces[-1])):
            break
        match = list(_SUFFIX_SEPARATORS.finditer(text))[-1]
        text = _ELLIPSIS.sub("", text[: match.start()]).strip()
    stripped = _FILE_EXTENSION.sub("", _FILE_PREFIX.sub("", text)).strip()
    if stripped != text and "_" in stripped and " " not in stripped:  # "File:Grace_Hopper.jpg"
        stripped = stripped.replace("_", " ")
    return stripped.strip(" -|–—·:")


# -- dedupe ------------------------------------------------------------------------------------


def _title_key(title: str) -> str:
    return " ".join(re.findall(r"\w+", title.casefold()))


def dedupe_hits(hits: Sequence[SearchHit], *, title_similarity: float = 0.92,
                by_title: bool = True) -> list[SearchHit]:
    """Drop hits for an already-seen page or (``by_title``) with a near-identical title.

    The first (best-ranked) hit wins; the URLs it absorbed are listed in its
    ``metadata["duplicates"]`` so nothing is lost.
    """
    kept: list[SearchHit] = []
    by_url: dict[str, int] = {}
    title_keys: list[str] = []
    for hit in hits:
        url_key = canonical_url(hit.url or hit.image_url)
        title_key = _title_key(hit.title)
        match = by_url.get(url_key) if url_key else None
        if match is None and by_title and title_key and len(title_key) >= 8:
            for index, seen in enumerate(title_keys):
                if seen and (seen == title_key or SequenceMatcher(None, seen, title_key)
                             .ratio() >= title_similarity):
                    match = index
                    break
        if match is not None:
            survivor = kept[match]
            duplicates = list(survivor.metadata.get("duplicates", []))
            if hit.url and hit.url != survivor.url and hit.url not in duplicates:
                duplicates.append(hit.url)
            updates: dict = {"metadata": {**survivor.metadata, "duplicates": duplicates}}
            for name in ("snippet", "thumbnail_url", "image_url", "source"):  # fill gaps
                if getattr(survivor, name) is None and getattr(hit, name) is not None:
                    updates[name] = getattr(hit, name)
            kept[match] = survivor.model_copy(update=updates)
            continue
        if url_key:
            by_url[url_key] = len(kept)
        title_keys.append(title_key)
        kept.append(hit)
    return kept


# -- the pipeline ------------------------------------------------------------------------------


def postprocess(result: SearchResult, options: ExtractOptions | None = None) -> SearchResult:
    """Clean, filter, dedupe and guess (no network). See :class:`ExtractOptions`."""
    options = options or ExtractOptions()
    hits = list(result.hits)
    if options.allow_domains is not None or options.deny_domains:
        hits = filter_domains(hits, allow=options.allow_domains, deny=options.deny_domains)
    if options.clean_titles:
        hits = [_with_clean_title(hit) for hit in hits]
    # Pages on different sites that share a title are independent votes for the best
    # guess, so it is taken before title dedupe (same-page duplicates still count once).
    voters = dedupe_hits(hits, by_title=False) if options.dedupe else hits
    if options.dedupe:
        hits = dedupe_hits(hits, title_similarity=options.title_similarity)
    hits = [hit.model_copy(update={"position": i}) for i, hit in enumerate(hits, start=1)]
    updates: dict = {"hits": hits}
    if options.best_guess and not result.best_guess:
        guess = guess_from_titles([h.title for h in voters],
                                  sites=[h.source or site_of(h.url) for h in voters])
        if guess is not None:
            updates["best_guess"] = guess.label
            updates["metadata"] = {**result.metadata, "best_guess_support":
                                   {"support": guess.support, "total": guess.total}}
    return result.model_copy(update=updates)


async def apostprocess(
    result: SearchResult,
    options: ExtractOptions | None = None,
    *,
    allow_private_urls: bool = False,
) -> SearchResult:
    """:func:`postprocess`, then caption enrichment when ``options.enrich_captions`` > 0."""
    options = options or ExtractOptions()
    result = postprocess(result, options)
    if options.enrich_captions > 0 and result.hits:
        from rir.results.enrich import enrich_captions

        result = await enrich_captions(
            result, top_n=options.enrich_captions, timeout_s=options.enrich_timeout_s,
            concurrency=options.enrich_concurrency, max_bytes=options.enrich_max_bytes,
            allow_private_urls=allow_private_urls)
    return result


def _with_clean_title(hit: SearchHit) -> SearchHit:
    site = hit.source or site_of(hit.url)
    cleaned = clean_title(hit.title, site)
    if cleaned == hit.title:
        return hit
    return hit.model_copy(update={"title": cleaned,
                                  "metadata": {**hit.metadata, "raw_title": hit.title}})
