"""Small, forgiving readers for provider payloads, shared by the API engines.

Providers omit fields, send numbers as strings and put HTML in titles; these
helpers turn such values into what :class:`~rir.results.models.SearchHit` expects, or
``None`` — they never invent a value.
"""

from __future__ import annotations

import html
import ipaddress
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from rir.results.models import SearchHit
from rir.urls import canonical_url

__all__ = [
    "as_float",
    "as_int",
    "as_list",
    "as_mapping",
    "dedupe_by_url",
    "http_url",
    "plain_text",
    "publicly_reachable",
]

# Only real tags (a letter after '<'), so "I <3 NY" survives.
_TAG = re.compile(r"</?[A-Za-z][^<>]*>")
_SPACES = re.compile(r"\s+")


def plain_text(value: Any) -> str | None:
    """``value`` as plain text: tags removed, entities decoded, whitespace collapsed."""
    if not isinstance(value, str):
        return None
    text = html.unescape(_TAG.sub(" ", value))
    text = _SPACES.sub(" ", text).strip()
    return text or None


def http_url(value: Any) -> str | None:
    """``value`` if it is an absolute http(s) URL (protocol-relative ones get https:)."""
    if not isinstance(value, str):
        return None
    value = value.strip()
    if value.startswith("//"):
        value = "https:" + value
    return value if value.lower().startswith(("http://", "https://")) and len(value) > 8 else None


def as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value > 0 else None
    if isinstance(value, float) and value.is_integer():
        return int(value) if value > 0 else None
    if isinstance(value, str) and value.strip().isdigit():
        number = int(value.strip())
        return number if number > 0 else None
    return None


def as_float(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number == number else None  # NaN is not a score


def as_list(value: Any) -> list[Any]:
    """``value`` if it is a list, a one-item list for a lone mapping, else ``[]``."""
    if isinstance(value, list):
        return value
    if isinstance(value, Mapping):
        return [value]
    return []


def as_mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def dedupe_by_url(hits: Iterable[SearchHit]) -> list[SearchHit]:
    """Keep the first hit per canonical page (or image) URL; later duplicates add their
    match types to the survivor's ``metadata["match_types"]``."""
    kept: list[SearchHit] = []
    index: dict[str, int] = {}
    for hit in hits:
        key = canonical_url(hit.url or hit.image_url)
        if key and key in index:
            survivor = kept[index[key]]
            types = list(survivor.metadata.get("match_types", [survivor.match_type]))
            if hit.match_type not in types:
                types.append(hit.match_type)
            kept[index[key]] = survivor.model_copy(
                update={"metadata": {**survivor.metadata, "match_types": types}}
            )
            continue
        if key:
            index[key] = len(kept)
        kept.append(hit)
    return kept


def publicly_reachable(url: str) -> bool:
    """False for loopback, private and local hosts that a provider's servers cannot fetch."""
    host = (urlsplit(url).hostname or "").lower()
    if not host or host == "localhost" or host.endswith((".localhost", ".local", ".internal")):
        return False
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return True
    return address.is_global
