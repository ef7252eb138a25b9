"""Search hits as LangChain ``Document`` objects, and as compact text for tool messages.

``page_content`` is the cleaned title plus the caption or snippet; ``metadata`` holds
exactly ``source`` (page URL), ``title``, ``site``, ``thumbnail_url``, ``image_url``,
``position``, ``match_type``, ``engine``, ``best_guess`` and
``query_image_sha256``. ``id`` is a UUID derived from the query image's hash and
the hit's canonical page URL, so the same hit for the same image gets the same id
on every run (and vector stores that require UUIDs accept it).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from langchain_core.documents import Document

from rir.extract import canonical_url, site_of
from rir.models import SearchHit, SearchResult
from rir.prompts import sanitize_untrusted

__all__ = ["DOCUMENT_METADATA_KEYS", "document_id", "format_documents", "hits_to_documents"]

DOCUMENT_METADATA_KEYS = (
    "source", "title", "site", "thumbnail_url", "image_url", "position", "match_type",
    "engine", "best_guess", "query_image_sha256",
)
# A fixed namespace keeps ids stable across runs and machines.
_ID_NAMESPACE = uuid.UUID("5b0f3c1e-7d2a-4c1b-9a57-2f1c8e3d6a90")


def document_id(query_sha256: str, hit: SearchHit) -> str:
    """A stable UUID for ``hit`` found for the image with hash ``query_sha256``."""
    key = canonical_url(hit.url) or canonical_url(hit.image_url)
    if not key or key.startswith("data"):
        key = f"title:{hit.title}|position:{hit.position}"
    return str(uuid.uuid5(_ID_NAMESPACE, f"{query_sha256}|{key}"))


def _page_content(hit: SearchHit) -> str:
    lines = [hit.title.strip()] if hit.title and hit.title.strip() else []
    if hit.snippet and hit.snippet.strip() and hit.snippet.strip() != hit.title.strip():
        lines.append(hit.snippet.strip())
    if not lines:
        lines.append(hit.source or site_of(hit.url) or hit.url or "(untitled result)")
    return "\n".join(lines)


def hits_to_documents(result: SearchResult, *, query_sha256: str | None = None) -> list[Document]:
    """One Document per hit, in rank order."""
    sha = query_sha256 or result.query_sha256
    documents = []
    for hit in result.hits:
        metadata = {
            "source": hit.url or hit.image_url,
            "title": hit.title,
            "site": hit.source or site_of(hit.url) or None,
            "thumbnail_url": hit.thumbnail_url,
            "image_url": hit.image_url,
            "position": hit.position,
            "match_type": hit.match_type,
            "engine": hit.engine or result.engine,
            "best_guess": result.best_guess,
            "query_image_sha256": sha,
        }
        documents.append(Document(id=document_id(sha, hit), page_content=_page_content(hit),
                                  metadata=metadata))
    return documents


def format_documents(documents: Sequence[Document], *, best_guess: str | None = None,
                     max_snippet_chars: int = 200) -> str:
    """Compact numbered lines for a model: ``[1] Title (site) url`` plus the caption.

    Web text is sanitised (no control characters or tags, capped) but not fenced:
    tool messages are already separated from instructions by the tool role.
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
        source = meta.get("source") or ""
        url = "" if str(source).startswith("data:") else sanitize_untrusted(str(source), 160)
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
