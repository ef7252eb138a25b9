"""Search hits as LangChain ``Document`` objects (and Documents back as numbered text).

``page_content`` is the cleaned title plus the caption or snippet; ``metadata`` holds
exactly ``source`` (page URL), ``title``, ``site``, ``thumbnail_url``, ``image_url``,
``position``, ``match_type``, ``engine``, ``best_guess`` and
``query_image_sha256``. ``id`` is a UUID derived from the query image's hash and
the hit's canonical page URL, so the same hit for the same image gets the same id
on every run (and vector stores that require UUIDs accept it).
"""

from __future__ import annotations

from collections.abc import Sequence

from langchain_core.documents import Document

from rir.prompting.hit_documents import HIT_METADATA_KEYS, hit_id, hit_metadata, hit_text
from rir.prompting.listing import format_hits
from rir.results.models import SearchHit, SearchResult

__all__ = ["DOCUMENT_METADATA_KEYS", "document_id", "format_documents", "hits_to_documents"]

DOCUMENT_METADATA_KEYS = HIT_METADATA_KEYS
document_id = hit_id


def hits_to_documents(result: SearchResult, *, query_sha256: str | None = None) -> list[Document]:
    """One Document per hit, in rank order."""
    sha = query_sha256 or result.query_sha256
    return [Document(id=hit_id(sha, hit), page_content=hit_text(hit),
                     metadata=hit_metadata(hit, result, sha)) for hit in result.hits]


def format_documents(documents: Sequence[Document], *, best_guess: str | None = None,
                     max_chars: int = 6000) -> str:
    """Numbered lines for Documents made by :func:`hits_to_documents` (title, site, URL,
    caption), in the same format as the tools' and the prompt's
    (:func:`rir.prompting.listing.format_hits`).
    """
    hits = []
    for number, doc in enumerate(documents, start=1):
        meta = doc.metadata
        title = str(meta.get("title") or "")
        content = doc.page_content or ""
        caption = content[len(title):].strip() if title and content.startswith(title) else (
            "" if title else content)
        hits.append(SearchHit(title=title, url=meta.get("source") or None,
                              source=meta.get("site") or None, snippet=caption or None,
                              position=number))
    return format_hits(hits, best_guess=best_guess, max_hits=max(1, len(hits)),
                       max_chars=max_chars)
