"""Search hits as LangChain ``Document`` objects, and as compact text for tool messages.

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

from rir.documents import HIT_METADATA_KEYS, hit_id, hit_metadata, hit_text
from rir.models import SearchResult
from rir.prompts import sanitize_untrusted
from rir.urls import MAX_CITABLE_URL_CHARS, citable_url, long_url_note

__all__ = ["DOCUMENT_METADATA_KEYS", "document_id", "format_documents", "hits_to_documents"]

DOCUMENT_METADATA_KEYS = HIT_METADATA_KEYS
document_id = hit_id


def hits_to_documents(result: SearchResult, *, query_sha256: str | None = None) -> list[Document]:
    """One Document per hit, in rank order."""
    sha = query_sha256 or result.query_sha256
    return [Document(id=hit_id(sha, hit), page_content=hit_text(hit),
                     metadata=hit_metadata(hit, result, sha)) for hit in result.hits]


def format_documents(documents: Sequence[Document], *, best_guess: str | None = None,
                     max_snippet_chars: int = 200,
                     max_url_chars: int = MAX_CITABLE_URL_CHARS) -> str:
    """Compact numbered lines for a model: ``[1] Title (site) url`` plus the caption.

    Web text is sanitised (no control characters or tags, capped) but not fenced:
    tool messages are already separated from instructions by the tool role. URLs
    are given whole (:func:`rir.urls.citable_url`: only tracking parameters go); a
    document whose URL is longer than ``max_url_chars`` is left out with a note.
    """
    if not documents:
        return ("No web pages matching this image were found. The image may be private, "
                "too new, or heavily edited; answer from the image itself or ask the user.")
    lines = []
    if best_guess:
        lines.append(f"Best guess: {sanitize_untrusted(best_guess, 120)}")
    for number, doc in enumerate(documents, start=1):
        meta = doc.metadata
        title = sanitize_untrusted(meta.get("title"), 160) or "(untitled)"
        site = sanitize_untrusted(meta.get("site"), 60)
        url = citable_url(str(meta.get("source") or ""))
        if len(url) > max_url_chars:
            lines.append(long_url_note(number, url, max_url_chars))
            continue
        line = f"[{number}] {title}" + (f" ({site})" if site else "") + (f" {url}" if url else "")
        raw_title = str(meta.get("title") or "")
        content = doc.page_content
        if raw_title:
            caption = content[len(raw_title):] if content.startswith(raw_title) else ""
        else:
            caption = content
        if caption.strip():
            line += f"\n    {sanitize_untrusted(caption, max_snippet_chars)}"
        lines.append(line)
    return "\n".join(lines)
