"""Information extraction from search hits: clean, filter, dedupe, and guess.

Framework-free post-processing applied by :class:`rir.ReverseImageSearch`:

* :func:`clean_title` strips site suffixes (" - Wikipedia", " | Britannica"),
  file-name noise and ellipses;
* :func:`canonical_url` and :func:`dedupe_hits` merge hits for the same page
  and near-identical titles (the duplicates' URLs are kept in metadata);
* ``allow_domains`` / ``deny_domains`` filter by site;
* :func:`guess_from_titles` names what the image shows by n-gram voting
  across the hits' titles, or returns ``None`` when they do not agree;
* caption enrichment (``enrich_captions=N``) fetches the top pages and pulls
  the caption nearest to the matching image (see :mod:`rir.enrich`).
"""

from __future__ import annotations

import functools
import html
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

from rir.models import SearchHit, SearchResult

__all__ = [
    "BestGuess",
    "ExtractOptions",
    "apostprocess",
    "canonical_url",
    "clean_title",
    "dedupe_hits",
    "filter_domains",
    "guess_from_titles",
    "postprocess",
    "site_of",
    "unwrap_redirect",
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


# -- URLs and sites ----------------------------------------------------------------------------

_TRACKING_PARAMS = re.compile(
    r"^(utm_\w+|fbclid|gclid|dclid|msclkid|mc_cid|mc_eid|igshid|ref|ref_src|ved|ei|sa|usg|"
    r"source|srsltid|_ga|si)$",
    re.IGNORECASE,
)
_REDIRECT_HOST = re.compile(r"(^|\.)google\.[a-z.]+$|(^|\.)googleusercontent\.com$")


def unwrap_redirect(url: str) -> str:
    """Return the target of Google redirect wrappers (``/url?q=``, ``/imgres?imgrefurl=``)."""
    for _ in range(3):
        try:
            parts = urlsplit(url)
        except ValueError:
            return url
        host = (parts.hostname or "").lower()
        if not _REDIRECT_HOST.search(host) or parts.path not in ("/url", "/imgres", "/aclk"):
            return url
        query = dict(parse_qsl(parts.query))
        target = query.get("q") or query.get("url") or query.get("imgrefurl") or query.get("adurl")
        if not target or not target.startswith(("http://", "https://")):
            return url
        url = target
    return url


@functools.lru_cache(maxsize=4096)  # pure, and the same URLs recur across a page's cards
def canonical_url(url: str | None) -> str:
    """A normalised form of ``url`` for comparing pages (not for fetching)."""
    if not url:
        return ""
    url = unwrap_redirect(url.strip())
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    host = (parts.hostname or "").lower()
    for prefix in ("www.", "m.", "mobile.", "amp."):
        if host.startswith(prefix):
            host = host[len(prefix):]
    host = re.sub(r"^([a-z]{2,3}(?:-[a-z]+)?)\.m\.", r"\1.", host)  # en.m.wikipedia.org
    query = urlencode(sorted(
        (k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not _TRACKING_PARAMS.match(k)
    ))
    path = unquote(parts.path).rstrip("/") or "/"
    path = re.sub(r"/(amp|index\.html?)$", "", path) or "/"
    return urlunsplit(("https" if parts.scheme in ("http", "https") else parts.scheme,
                       host, path, query, ""))


def site_of(url: str | None) -> str:
    """The domain of ``url`` without ``www.`` (``''`` when there is none)."""
    if not url:
        return ""
    try:
        host = (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""
    return host[4:] if host.startswith("www.") else host


def _domain_matches(host: str, domains: Iterable[str]) -> bool:
    for domain in domains:
        domain = domain.lower().strip().lstrip(".")
        if domain.startswith("www."):
            domain = domain[4:]
        if host == domain or host.endswith("." + domain):
            return True
    return False


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
        if allow is not None and not _domain_matches(host, allow):
            continue
        if deny and _domain_matches(host, deny):
            continue
        kept.append(hit)
    return kept


# -- titles ------------------------------------------------------------------------------------

# Publishers whose names commonly trail page titles. Matching is case-insensitive.
_KNOWN_SITES = {
    "wikipedia", "wikimedia commons", "wikidata", "youtube", "britannica",
    "encyclopedia britannica",
    "reddit", "pinterest", "facebook", "instagram", "x", "twitter", "tiktok", "linkedin", "imdb",
    "flickr", "tumblr", "amazon", "amazon.com", "ebay", "etsy", "alamy", "getty images",
    "shutterstock", "istock", "dreamstime", "adobe stock", "123rf", "depositphotos", "unsplash",
    "pexels", "pixabay", "vecteezy", "freepik", "the new york times", "the guardian", "bbc",
    "bbc news", "bbc sport", "cnn", "forbes", "reuters", "ap news", "associated press",
    "the washington post", "nbc news", "cbs news", "abc news", "fox news", "npr", "time",
    "national geographic", "smithsonian magazine", "history.com", "biography", "quora",
    "medium", "wikiwand", "fandom", "imgur", "vogue", "variety", "people.com", "tripadvisor",
    "yelp", "google arts & culture", "google books", "scribd", "issuu", "academia.edu",
    "researchgate", "sciencedirect", "nature", "inaturalist", "ebird", "wiktionary",
}
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
    if text in _KNOWN_SITES or re.fullmatch(r"[\w-]+(\.[\w-]+)+", text):
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


# -- best guess --------------------------------------------------------------------------------

_STOP_WORDS = frozenset(
    """
    a an the and or of in on at to for from by with without about into over under as is are
    was were be been being this that these those it its his her their our your my we you
    they he she i me vs via per new top best free photo photos image images picture pictures
    stock video videos hd 4k wallpaper wallpapers png jpg jpeg file download royalty high
    resolution quality vector illustration editorial news official page home online shop buy
    sale review reviews 2020 2021 2022 2023 2024 2025 2026 de la le les el los las del der
    die das und en et y du von
    """.split()
)


@dataclass(frozen=True)
class BestGuess:
    """A label the hits agree on: ``support`` of ``total`` titles contain it."""

    label: str
    support: int
    total: int


def _tokens(title: str) -> list[str]:
    return re.findall(r"[^\W_]+(?:['’.-][^\W_]+)*", title)


def guess_from_titles(
    titles: Sequence[str],
    *,
    sites: Iterable[str] = (),
    min_support: int = 2,
    min_fraction: float = 0.25,
) -> BestGuess | None:
    """Name what the hits agree on by voting over word n-grams of their titles.

    Each title votes once for every 1-5 word n-gram it contains that neither starts
    nor ends with a stop word or a site name. The winner maximises
    ``support * (1 + 0.6 * (n - 1))``, so "Grace Hopper" beats "Hopper" when both
    appear in the same titles. ``None`` when no n-gram reaches ``min_support``
    titles and ``min_fraction`` of them.
    """
    titles = [t for t in titles if t and t.strip()]
    if not titles:
        return None
    site_words = {w for s in sites for w in re.findall(r"[a-z0-9]+", s.lower())}
    site_words |= {w for name in _KNOWN_SITES for w in name.split()}
    support: Counter[tuple[str, ...]] = Counter()
    surface: dict[tuple[str, ...], Counter[str]] = {}
    for title in titles:
        words = _tokens(title)
        lowered = [w.casefold() for w in words]
        seen: set[tuple[str, ...]] = set()
        for n in range(1, 6):
            for start in range(len(words) - n + 1):
                gram = tuple(lowered[start:start + n])
                if gram in seen or not _good_edges(gram, site_words):
                    continue
                seen.add(gram)
                support[gram] += 1
                surface.setdefault(gram, Counter())[" ".join(words[start:start + n])] += 1
    if not support:
        return None
    needed = max(min_support, int(min_fraction * len(titles) + 0.999))
    candidates = [(count * (1 + 0.6 * (len(gram) - 1)), len(gram), gram)
                  for gram, count in support.items() if count >= needed]
    if not candidates:
        return None
    _, _, best = max(candidates)
    best = _extend(best, support, needed)
    label = surface[best].most_common(1)[0][0]
    return BestGuess(label=label, support=support[best], total=len(titles))


def _extend(best: tuple[str, ...], support: Counter[tuple[str, ...]],
            needed: int) -> tuple[str, ...]:
    """Grow ``best`` into a longer n-gram most of its supporters share.

    "Hopper" in 7 titles yields to "Grace Hopper" in 5 of them: a full name seen
    in most of the titles is a better label than its most frequent word.
    """
    while True:
        floor = max(needed, 0.6 * support[best])
        longer = [(support[gram], len(gram), gram) for gram in support
                  if len(gram) > len(best) and support[gram] >= floor
                  and _contains(gram, best)]
        if not longer:
            return best
        best = max(longer)[2]


def _contains(gram: tuple[str, ...], part: tuple[str, ...]) -> bool:
    n = len(part)
    return any(gram[i:i + n] == part for i in range(len(gram) - n + 1))


_YEAR = re.compile(r"^(1[89]|20)\d\d$")


def _good_edges(gram: tuple[str, ...], site_words: set[str]) -> bool:
    first, last = gram[0], gram[-1]
    if first in _STOP_WORDS or first in site_words or first.isdigit() or len(first) < 2:
        return False
    if last.isdigit():
        # A model or mission number completes a name ("Air Max 90", "Apollo 11", "Boeing
        # 747"); a lone number or a year ("Eiffel Tower 2024") does not.
        if len(gram) < 2 or _YEAR.match(last) or len(last) > 5:
            return False
        if gram[-2] in _STOP_WORDS or gram[-2] in site_words or gram[-2].isdigit():
            return False
    elif last in _STOP_WORDS or last in site_words or len(last) < 2:
        return False
    return not all(w in _STOP_WORDS or w in site_words for w in gram)


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
        from rir.enrich import enrich_captions

        result = await enrich_captions(result, options, allow_private_urls=allow_private_urls)
    return result


def _with_clean_title(hit: SearchHit) -> SearchHit:
    site = hit.source or site_of(hit.url)
    cleaned = clean_title(hit.title, site)
    if cleaned == hit.title:
        return hit
    return hit.model_copy(update={"title": cleaned,
                                  "metadata": {**hit.metadata, "raw_title": hit.title}})
