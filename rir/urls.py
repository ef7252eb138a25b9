"""URLs as a model or a person sees them: whole, minus the parameters that only track clicks.

A URL placed in a prompt, a tool result or a table is one the model may cite and
a user may open, so it is never cut: its path, query string (``?id=2``) and
fragment all stay. :func:`citable_url` removes only tracking parameters
(:func:`is_tracking_param`: ``utm_*``, ``fbclid``, ``gclid``, ``mc_eid``, ...)
and percent-encodes the characters that cannot appear in a URL (spaces, quotes,
angle brackets, control and invisible characters), as a browser does when it
sends one. The result is one token a model can copy, and it cannot open or
close the ``<search_results>`` fence.

When text must stay short, drop tracking parameters or leave out the whole hit
(:func:`long_url_note` says so), never a piece of its URL.
"""

from __future__ import annotations

import re
from urllib.parse import quote, unquote_plus

__all__ = [
    "MAX_CITABLE_URL_CHARS",
    "TRACKING_PARAMS",
    "citable_url",
    "is_tracking_param",
    "long_url_note",
    "strip_tracking_params",
]

#: Query parameters that only identify a click, campaign or share: removing them
#: never changes which page opens. Names are matched case-insensitively.
TRACKING_PARAMS = re.compile(
    r"^(utm_\w+|fbclid|gclid|gclsrc|dclid|gbraid|wbraid|msclkid|yclid|twclid|ttclid|"
    r"li_fat_id|mc_cid|mc_eid|igshid|srsltid|_ga|_gl|_hsenc|_hsmi|mkt_tok|oly_anon_id|"
    r"oly_enc_id|vero_id|rb_clickid|ref_src)$",
    re.IGNORECASE,
)

#: Longer URLs are not given to a model: a hit carrying one is left out, with a note.
#: 2,048 characters is the longest URL that browsers, servers and sitemaps all accept.
MAX_CITABLE_URL_CHARS = 2048

# Characters a URL cannot contain literally: whitespace, ASCII controls, the delimiters
# RFC 3986 excludes, and the invisible and bidirectional-override code points that
# can hide text from a reader.
_UNSAFE = re.compile(
    r"[\x00-\x20\x7f-\x9f\"<>\\^`{|}\u00a0\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]"
)


def is_tracking_param(name: str) -> bool:
    """Whether the query parameter ``name`` only tracks clicks (see :data:`TRACKING_PARAMS`)."""
    return bool(TRACKING_PARAMS.match(unquote_plus(name).strip()))


def strip_tracking_params(url: str) -> str:
    """``url`` without its tracking parameters; every other character stays as it was.

    The other parameters keep their order and their exact encoding (the query is
    not re-encoded), and the ``?`` goes only when no parameter is left.
    """
    head, hash_mark, fragment = url.partition("#")
    base, question_mark, query = head.partition("?")
    if not question_mark:
        return url
    pairs = query.split("&")
    kept = [pair for pair in pairs if not is_tracking_param(pair.split("=", 1)[0])]
    if len(kept) == len(pairs):
        return url  # nothing to remove: the URL stays exactly as it was sent
    kept = [pair for pair in kept if pair]
    rebuilt = f"{base}?{'&'.join(kept)}" if kept else base
    return f"{rebuilt}{hash_mark}{fragment}"


def citable_url(url: str | None) -> str:
    """The URL to show a model or a user: whole, without tracking parameters, one token.

    ``''`` for a missing URL and for ``data:`` URIs (bytes, not an address).
    """
    if not url:
        return ""
    url = url.strip()
    if url[:5].lower() == "data:":
        return ""
    url = strip_tracking_params(url)
    return _UNSAFE.sub(lambda match: quote(match.group(0), safe=""), url)


def long_url_note(number: int, url: str, limit: int = MAX_CITABLE_URL_CHARS) -> str:
    """The line that stands in for hit ``number`` when its URL is over ``limit`` characters."""
    return (f"[{number}] left out: its URL is {len(url):,} characters long, over the "
            f"{limit:,} a cited link may have")
