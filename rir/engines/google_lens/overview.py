"""What the page says the image *is*: the AI overview and related searches.

These never become hits. The AI overview's prose goes to
``metadata["ai_overview"]``, the names it puts in bold become entities, and the
best guess is the first bold name (or the overview's first sentence); related
searches ("Eiffel Tower", "Eiffel Tower at night") become entities too and give
the best guess when there is no overview.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urljoin, urlsplit

from lxml import etree

from rir.engines.google_lens import hints
from rir.engines.google_lens.dom import in_landmark, is_heading, norm, text_blocks, visible_text
from rir.results.models import Entity

__all__ = ["Overview", "read_overview"]

_MAX_OVERVIEW_CHARS = 1500
_MAX_GUESS_CHARS = 80
_MIN_PROSE_CHARS = 40
# A source card's snippet starts with its date: "May 1, 2026 — ..." / "1 mai 2026 — ...".
_DATED_SNIPPET = re.compile(r"^[\w.]+\.? \d{1,2},? \d{4} — |^\d{1,2}\.? [\w.]+\.? \d{4} — ")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s")
_NOT_PROSE = ("a", "button", "cite")
_CHIPS = frozenset({"button", "a"})


@dataclass
class Overview:
    text: str | None = None
    best_guess: str | None = None
    entities: list[Entity] = field(default_factory=list)
    related: list[Entity] = field(default_factory=list)


def _overview_region(doc: etree._Element) -> tuple[etree._Element, etree._Element] | None:
    for element in doc.iter():
        if not isinstance(element.tag, str) or not is_heading(element):
            continue
        label = visible_text(element)
        if hints.section_kind(label) != "ai_overview":
            continue
        # Climb until the region holds the prose, not just the heading's own box.
        region = element
        for _ in range(10):
            parent = region.getparent()
            if parent is None:
                break
            region = parent
            if len(visible_text(region, limit=4000)) > len(label) + 200:
                return element, region
    return None


def _is_prose_block(element: etree._Element, text: str) -> bool:
    """Sentences of the overview, not its source cards' titles, snippets or dialogs."""
    if len(text) < _MIN_PROSE_CHARS or " " not in text or _DATED_SNIPPET.match(text):
        return False
    if text.endswith(("...", "…")):  # a truncated source title, never prose
        return False
    if element.tag in _NOT_PROSE or element.get("role") == "button" or in_landmark(element):
        return False
    return not any(a.tag in _NOT_PROSE or a.get("role") == "button"
                   for a in element.iterancestors())


def _bold_names(paragraph: etree._Element) -> list[str]:
    names = []
    for bold in paragraph.iter("strong", "b"):
        text = visible_text(bold)
        # "Risk Identification:" is a list label, not a name.
        if text and len(text) <= _MAX_GUESS_CHARS and not text.endswith(":"):
            names.append(text)
    return names


def _first_sentence(text: str) -> str:
    sentence = _SENTENCE_END.split(text, maxsplit=1)[0]
    if len(sentence) <= _MAX_GUESS_CHARS * 2:
        return sentence
    return sentence[: _MAX_GUESS_CHARS * 2].rsplit(" ", 1)[0] + "…"


def _read_ai_overview(doc: etree._Element, overview: Overview) -> None:
    found = _overview_region(doc)
    if found is None:
        return
    heading, region = found
    in_heading = set(heading.iter())
    paragraphs: list[tuple[etree._Element, str]] = []
    size = 0
    for element, _ in text_blocks(region):
        # Citation chips ("LinkedIn +3") are buttons inside the prose: leave them out.
        text = visible_text(element, exclude=_CHIPS)
        if element in in_heading or not _is_prose_block(element, text):
            continue
        if any(text == seen for _, seen in paragraphs):
            continue
        paragraphs.append((element, text))
        size += len(text)
        if size >= _MAX_OVERVIEW_CHARS:
            break
    if not paragraphs:
        return
    overview.text = " ".join(text for _, text in paragraphs)[:_MAX_OVERVIEW_CHARS]
    first_element, first_text = paragraphs[0]
    names = _bold_names(first_element)
    overview.entities = [Entity(name=name, type="ai_overview") for name in dict.fromkeys(names)]
    overview.best_guess = names[0] if names else _first_sentence(first_text)


def _read_related_searches(doc: etree._Element, overview: Overview) -> None:
    seen: set[str] = set()
    for anchor in doc.iter("a"):
        href = anchor.get("href") or ""
        absolute = urljoin("https://www.google.com/", href)
        parts = urlsplit(absolute)
        if parts.path != "/search" or not re.search(r"(^|\.)google\.", parts.hostname or ""):
            continue
        query = parse_qs(parts.query)
        terms = norm((query.get("q") or [""])[0])
        if not terms or "tbs" in query or in_landmark(anchor):
            continue
        # A related search shows its own query as the link text.
        if norm(visible_text(anchor)).casefold() != terms.casefold():
            continue
        if terms.casefold() not in seen:
            seen.add(terms.casefold())
            overview.related.append(Entity(name=terms, type="related_search", url=absolute))


def read_overview(doc: etree._Element) -> Overview:
    overview = Overview()
    _read_ai_overview(doc, overview)
    _read_related_searches(doc, overview)
    if overview.best_guess is None and overview.related:
        overview.best_guess = overview.related[0].name
    return overview
