"""Search hits as a numbered, fenced listing: the ``text`` context and every agent tool's reply.

URLs are given whole (:func:`rir.urls.citable_url`: only tracking parameters go);
a hit whose URL is too long is left out with a note saying so, never cut.
"""

from __future__ import annotations

from collections.abc import Sequence

from rir.prompting.texts import NO_MATCHES_ADVICE, fence, sanitize_untrusted
from rir.results.models import SearchHit, SearchResult
from rir.urls import MAX_CITABLE_URL_CHARS, citable_url, long_url_note

__all__ = ["format_hits", "format_tool_result"]


def format_hits(
    hits: Sequence[SearchHit],
    *,
    best_guess: str | None = None,
    max_hits: int = 10,
    max_title_chars: int = 200,
    max_snippet_chars: int = 300,
    max_chars: int = 6000,
    max_url_chars: int = MAX_CITABLE_URL_CHARS,
) -> str:
    """Numbered, sanitised lines for the hits (the ``text`` context, without the fence).

    URLs are given whole (:func:`rir.urls.citable_url`: only tracking parameters go);
    a hit whose URL is longer than ``max_url_chars`` is left out with a note saying so.
    """
    lines: list[str] = []
    if best_guess:
        lines.append(f"Best guess from the results: {sanitize_untrusted(best_guess, 120)}")
    used = sum(len(line) + 1 for line in lines)
    for number, hit in enumerate(hits[:max_hits], start=1):
        url = citable_url(hit.url)
        if len(url) > max_url_chars:
            entry = long_url_note(number, url, max_url_chars)
        else:
            entry = _hit_entry(number, hit, url, max_title_chars, max_snippet_chars)
        if used + len(entry) + 1 > max_chars:
            lines.append(f"[{len(hits[:max_hits]) - number + 1} more results omitted for length]")
            break
        lines.append(entry)
        used += len(entry) + 1
    if not lines:
        lines.append("(the reverse image search found no matching pages)")
    return "\n".join(lines)


def _hit_entry(number: int, hit: SearchHit, url: str, max_title_chars: int,
               max_snippet_chars: int) -> str:
    title = sanitize_untrusted(hit.title, max_title_chars) or "(untitled)"
    fields = [f"[{number}] {title}"]
    site = sanitize_untrusted(hit.source, 80)
    if site:
        fields.append(f"site: {site}")
    if url:
        fields.append(f"url: {url}")
    entry = " | ".join(fields)
    snippet = sanitize_untrusted(hit.snippet, max_snippet_chars)
    return f"{entry}\n    caption: {snippet}" if snippet else entry


def format_tool_result(result: SearchResult, *, engine: str | None = None,
                       max_hits: int = 10, max_chars: int = 4000) -> str:
    """What an agent tool returns to the model, for every framework's tool: one header line
    (engine, number of matches, whether the list may be incomplete), then the numbered hits
    of :func:`format_hits` fenced as untrusted web text.
    """
    count = len(result.hits)
    name = result.engine or engine or "search"
    header = f"Reverse image search ({name}) found {count} match{'es' if count != 1 else ''}."
    if result.metadata.get("complete") is False:
        header += (" The engine could not tell whether more exist: the list may be "
                   "incomplete.")
    if not result.hits:
        return f"{header} {NO_MATCHES_ADVICE}"
    listing = format_hits(result.hits, best_guess=result.best_guess, max_hits=max_hits,
                          max_chars=max_chars)
    return f"{header}\n{fence(listing)}"
