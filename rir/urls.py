"""URLs in one place: as a model or a person sees them, as pages are compared, as logs show them.

* Shown: a URL placed in a prompt, a tool result or a table is one the model may cite
  and a user may open, so it is never cut: its path, query string (``?id=2``) and
  fragment all stay. :func:`citable_url` removes only tracking parameters
  (:func:`is_tracking_param`: ``utm_*``, ``fbclid``, ``gclid``, ``mc_eid``, ...) and
  percent-encodes the characters that cannot appear in a URL (spaces, quotes, angle
  brackets, control and invisible characters), as a browser does when it sends one.
  The result is one token a model can copy, and it cannot open or close the
  ``<search_results>`` fence. When text must stay short, drop tracking parameters or
  leave out the whole hit (:func:`long_url_note` says so), never a piece of its URL.
* Compared: :func:`canonical_url` normalises a page URL for comparison (not for
  fetching): scheme, ``www.``/``m.`` hosts, tracking and same-page parameters,
  trailing slashes, AMP paths; :func:`site_of` and :func:`domain_matches` answer
  "which site" questions; :func:`unwrap_redirect` returns the target of Google's
  ``/url?q=`` style wrappers.
* Logged: :func:`redact_url` makes a URL safe for logs and error messages (no
  credentials, no query string: it may carry keys or signed tokens).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from urllib.parse import parse_qsl, quote, unquote, unquote_plus, urlencode, urlsplit, urlunsplit

__all__ = [
    "MAX_CITABLE_URL_CHARS",
    "TRACKING_PARAMS",
    "canonical_url",
    "citable_url",
    "domain_matches",
    "host_in_url",
    "is_tracking_param",
    "long_url_note",
    "redact_url",
    "shorten",
    "site_of",
    "strip_tracking_params",
    "unwrap_redirect",
]

_MAX_SHOWN = 120

# -- shown to a model or a person -------------------------------------------------------------

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


# -- comparing pages -----------------------------------------------------------------------------

# Ignored when comparing pages besides the tracking parameters: they seldom change which
# page it is, but on some sites they are part of the address, so URLs shown to a model or
# a user keep them.
_SAME_PAGE_PARAMS = re.compile(r"^(ref|ved|ei|sa|usg|source|si)$", re.IGNORECASE)
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
        if not is_tracking_param(k) and not _SAME_PAGE_PARAMS.match(k)
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


def domain_matches(host: str, domains: Iterable[str]) -> bool:
    """Whether ``host`` is one of ``domains`` or a subdomain of one."""
    for domain in domains:
        domain = domain.lower().strip().lstrip(".")
        if domain.startswith("www."):
            domain = domain[4:]
        if host == domain or host.endswith("." + domain):
            return True
    return False


def host_in_url(host: str) -> str:
    """``host`` as a URL (or a message naming host and port) writes it: IPv6 in brackets."""
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def redact_url(url: str) -> str:
    """Return ``url`` without credentials or query string, shortened for messages.

    Query strings often carry API keys or signed tokens, so they are replaced by
    ``?…`` rather than shown. The host and port stay as written (an IPv6 address keeps
    its brackets, a port out of range is shown, not raised about).
    """
    try:
        parts = urlsplit(url)
    except ValueError:
        return shorten(url)
    if not parts.scheme or not parts.netloc:
        return shorten(url)
    host = parts.netloc.rsplit("@", 1)[-1]  # never the user:password before the '@'
    query = "…" if parts.query else ""
    return shorten(urlunsplit((parts.scheme, host, parts.path, query, "")))


def shorten(text: str) -> str:
    """``text`` cut to 120 characters (with an ellipsis), for messages."""
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 1] + "…"
