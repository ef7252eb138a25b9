"""What a search hit looks like as a retrieved document, for every framework.

The LangChain Documents and the LlamaIndex nodes share these so that one hit has
the same id, text and metadata in both: ``id`` is a UUID derived from the query
image's hash and the hit's canonical page URL (stable across runs and machines,
and accepted by vector stores that require UUIDs); the text is the title plus the
caption, sanitised like all web text. Hits of a region search also carry ``region``
(``"x1,y1,x2,y2"``, the pixel box of the part that found them) and ``regions`` (the
numbers of every region that found them, as prompts name them: ``"1,3"``); strings,
since several vector stores reject lists in metadata.
"""

from __future__ import annotations

import uuid
from typing import Any

from rir.prompting.texts import sanitize_untrusted
from rir.results.models import SearchHit, SearchResult
from rir.urls import canonical_url, site_of

__all__ = ["HIT_METADATA_KEYS", "hit_id", "hit_metadata", "hit_text"]

HIT_METADATA_KEYS = (
    "source", "title", "site", "thumbnail_url", "image_url", "position", "match_type",
    "engine", "best_guess", "query_image_sha256",
)
# A fixed namespace keeps ids stable across runs, machines and frameworks.
_ID_NAMESPACE = uuid.UUID("5b0f3c1e-7d2a-4c1b-9a57-2f1c8e3d6a90")
_MAX_TITLE_CHARS = 300
_MAX_SNIPPET_CHARS = 1000


def hit_id(query_sha256: str, hit: SearchHit) -> str:
    """A stable UUID for ``hit`` found for the image with hash ``query_sha256``."""
    key = canonical_url(hit.url) or canonical_url(hit.image_url)
    if not key or key.startswith("data"):
        key = f"title:{hit.title}|position:{hit.position}"
    return str(uuid.uuid5(_ID_NAMESPACE, f"{query_sha256}|{key}"))


def hit_text(hit: SearchHit) -> str:
    """The title, then the caption or snippet when it adds something (sanitised)."""
    title = sanitize_untrusted(hit.title, _MAX_TITLE_CHARS)
    snippet = sanitize_untrusted(hit.snippet, _MAX_SNIPPET_CHARS)
    if snippet == title:
        snippet = ""
    if not title:
        site = sanitize_untrusted(hit.source or site_of(hit.url), 80)
        title = f"(untitled result from {site})" if site else "(untitled result)"
    return f"{title}\n{snippet}" if snippet else title


def hit_metadata(hit: SearchHit, result: SearchResult, query_sha256: str) -> dict[str, Any]:
    """The documented metadata keys (:data:`HIT_METADATA_KEYS`), ``None`` where unknown,
    plus ``region`` and ``regions`` for the hits of a region search."""
    return {
        "source": hit.url or hit.image_url,
        "title": hit.title,
        "site": hit.source or site_of(hit.url) or None,
        "thumbnail_url": hit.thumbnail_url,
        "image_url": hit.image_url,
        "position": hit.position,
        "match_type": hit.match_type,
        "engine": hit.engine or result.engine,
        "best_guess": result.best_guess,
        "query_image_sha256": query_sha256,
        **_region_keys(hit),
    }


def _region_keys(hit: SearchHit) -> dict[str, str]:
    keys = {}
    box = hit.metadata.get("region")
    if isinstance(box, list) and len(box) == 4:
        keys["region"] = ",".join(str(v) for v in box)
    numbers = hit.metadata.get("regions")
    if isinstance(numbers, list) and numbers:
        keys["regions"] = ",".join(str(n + 1) for n in numbers)
    return keys
