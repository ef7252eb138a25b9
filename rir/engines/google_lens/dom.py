"""Small lxml helpers shared by the Lens page parser and the page-state detector."""

from __future__ import annotations

import re

from lxml import etree

__all__ = [
    "HEADING_TAGS",
    "heading_level",
    "in_landmark",
    "is_heading",
    "is_hidden",
    "load_document",
    "norm",
    "text_blocks",
    "visible_text",
]

HEADING_TAGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
_SKIP_TAGS = frozenset({"script", "style", "noscript", "template", "svg", "head", "title"})
_INLINE_TAGS = frozenset({"span", "b", "strong", "em", "i", "u", "mark", "small", "sup", "sub",
                          "bdi", "bdo", "abbr", "q", "s", "time", "wbr", "br"})
_SPACE = re.compile(r"\s+")
_LANDMARK_TAGS = frozenset({"nav", "header", "footer"})
_LANDMARK_ROLES = frozenset({"navigation", "banner", "contentinfo", "dialog", "alertdialog",
                             "menu", "menubar", "tablist", "search"})
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)


def norm(text: str | None) -> str:
    """Collapse whitespace and strip."""
    return _SPACE.sub(" ", text or "").strip()


def load_document(page: str) -> etree._Element | None:
    """Parse ``page`` into an lxml tree; None for an empty or unparseable page."""
    if not page or not page.strip():
        return None
    # Plain lxml elements, not lxml.html's: their Python proxies are several times
    # cheaper to create, which is most of the cost of walking a 1.7 MB page. UTF-8
    # bytes parse a third faster than a str (Lens pages hold emoji, so Python keeps
    # them as 4 bytes per character), and the explicit encoding overrides any
    # <meta charset> the page declares (the text is already decoded).
    parser = etree.HTMLParser(remove_comments=False, default_doctype=False, encoding="utf-8")
    try:
        return etree.fromstring(page.encode("utf-8", errors="replace"), parser)
    except etree.ParserError:
        return None


def _tag(element: etree._Element) -> str:
    tag = element.tag  # lxml's HTML parser gives lower-case tag names
    return tag if isinstance(tag, str) else ""


def is_heading(element: etree._Element) -> bool:
    return element.tag in HEADING_TAGS or element.get("role") == "heading"


def heading_level(element: etree._Element) -> int:
    """1-6 for ``<h1>``-``<h6>``, else ``aria-level`` (2 when missing)."""
    if element.tag in HEADING_TAGS:
        return int(element.tag[1])
    level = element.get("aria-level") or ""
    return int(level) if level.isdigit() else 2


def in_landmark(element: etree._Element) -> bool:
    """Inside navigation, header, footer, a menu, a tab bar or a dialog: never a result."""
    for ancestor in element.iterancestors():
        if ancestor.tag in _LANDMARK_TAGS or ancestor.get("role") in _LANDMARK_ROLES:
            return True
        if ancestor.get("aria-modal") == "true":
            return True
    return False


def is_hidden(element: etree._Element) -> bool:
    """Hidden by its own attributes (``hidden``, ``display:none``); ancestors not checked."""
    if element.get("hidden") is not None:
        return True
    style = element.get("style")
    return bool(style and _HIDDEN_STYLE.search(style))


def _skipped(element: etree._Element, root: etree._Element,
             exclude: frozenset[str] = frozenset()) -> bool:
    tag = _tag(element)
    return tag in _SKIP_TAGS or tag in exclude or (element is not root and is_hidden(element))


def visible_text(root: etree._Element, *, limit: int = 200_000,
                 exclude: frozenset[str] = frozenset()) -> str:
    """The text a reader would see under ``root`` (no scripts, styles or hidden parts).

    ``exclude`` names more tags to leave out (``button`` for citation chips in prose).
    """
    parts: list[str] = []
    size = 0
    # (element, entering): on entry emit its text, on exit its tail (which belongs to
    # the parent and stays visible even when the element itself is hidden). Block
    # elements are separated by a space; inline ones ("Eiffel <b>Tower</b>") are not.
    stack: list[tuple[etree._Element, bool]] = [(root, True)]
    while stack and size < limit:
        element, entering = stack.pop()
        is_element = isinstance(element.tag, str)
        block = is_element and _tag(element) not in _INLINE_TAGS
        if entering:
            if element is not root:
                stack.append((element, False))
            if not is_element or _skipped(element, root, exclude):
                continue  # comments, processing instructions, hidden or script subtrees
            piece = element.text
            stack.extend((child, True) for child in reversed(element)
                         if isinstance(child.tag, str) or child.tail)
        else:
            piece = element.tail
        if block or _tag(element) == "br":
            parts.append(" ")
        if piece:
            parts.append(piece)
            size += len(piece)
    return norm("".join(parts))


def text_blocks(root: etree._Element) -> list[tuple[etree._Element, str]]:
    """Visible text under ``root`` split into blocks, in document order.

    A block is the text of an element that holds text directly, with its inline
    children (``<span>``, ``<b>`` ...) merged in, so "Eiffel <b>Tower</b>" is one
    block while a site label and a title in sibling ``<div>`` s are two.
    """
    blocks: list[tuple[etree._Element, str]] = []
    stack = [root]
    while stack:
        element = stack.pop()
        tag = element.tag
        if not isinstance(tag, str) or _skipped(element, root):
            continue
        has_text = bool(element.text and not element.text.isspace()) or any(
            child.tail and not child.tail.isspace() for child in element)
        if has_text or (tag in _INLINE_TAGS and not any(
                isinstance(c.tag, str) and c.tag not in _INLINE_TAGS and c.tag not in _SKIP_TAGS
                for c in element)):
            text = visible_text(element)
            if text:
                blocks.append((element, text))
                continue  # the block holds its whole subtree
        stack.extend(reversed(element))
    return blocks
