"""The best guess: what a set of result titles agree the image shows.

:func:`guess_from_titles` votes over the word n-grams of the titles (stop words,
site names and bare years never start or end a label); used by
:func:`rir.results.extract.postprocess` and by the local engine. :func:`vote_guesses`
picks among whole guesses (the engines of a fusion, the parts of a region search).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = ["KNOWN_SITES", "BestGuess", "guess_from_titles", "vote_guesses"]

# Publishers whose names commonly trail page titles (case-insensitive): the title
# cleaner strips them, and the vote never takes them for what the image shows.
KNOWN_SITES = frozenset({
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
})

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
    site_words |= {w for name in KNOWN_SITES for w in name.split()}
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


def vote_guesses(guesses: Iterable[str | None]) -> str | None:
    """The guess most sources agree on (case-insensitively); ties go to the first given."""
    present = [g.strip() for g in guesses if g and g.strip()]
    if not present:
        return None
    counts = Counter(g.casefold() for g in present)
    top = max(counts.values())
    return next(g for g in present if counts[g.casefold()] == top)
