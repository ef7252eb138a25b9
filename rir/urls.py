"""URLs in one place: canonical forms for comparing pages, sites, redirect wrappers, redaction.

* :func:`canonical_url` normalises a page URL for comparison (not for fetching):
  scheme, ``www.``/``m.`` hosts, tracking parameters, trailing slashes, AMP paths;
* :func:`site_of` and :func:`domain_matches` answer "which site" questions;
* :func:`unwrap_redirect` returns the target of Google's ``/url?q=`` style wrappers;
* :func:`redact_url` makes a URL safe to show in logs and messages.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

__all__ = ["canonical_url", "domain_matches", "redact_url", "shorten", "site_of",
           "unwrap_redirect"]

_MAX_SHOWN = 120


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


def domain_matches(host: str, domains: Iterable[str]) -> bool:
    """Whether ``host`` is one of ``domains`` or a subdomain of one."""
    for domain in domains:
        domain = domain.lower().strip().lstrip(".")
        if domain.startswith("www."):
            domain = domain[4:]
        if host == domain or host.endswith("." + domain):
            return True
    return False


def redact_url(url: str) -> str:
    """Return ``url`` without credentials or query string, shortened for messages.

    Query strings often carry API keys or signed tokens, so they are replaced by
    ``?…`` rather than shown.
    """
    try:
        parts = urlsplit(url)
    except ValueError:
        return shorten(url)
    if not parts.scheme or not parts.netloc:
        return shorten(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    query = "…" if parts.query else ""
    return shorten(urlunsplit((parts.scheme, host, parts.path, query, "")))


def shorten(text: str) -> str:
    """``text`` cut to 120 characters (with an ellipsis), for messages."""
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 1] + "…"
