"""Search hits as a numbered, fenced listing: the ``text`` context and every agent tool's reply.

URLs are given whole (:func:`rir.urls.citable_url`: only tracking parameters go);
a hit whose URL is too long is left out with a note saying so, never cut. A region
search's hits are grouped under the region that ranked them best
(:func:`format_region_hits`: ``Region 2, top-left (...)``), each noting the other
regions that found it too.
"""

from __future__ import annotations

from collections.abc import Sequence

from rir.prompting.texts import NO_MATCHES_ADVICE, fence, sanitize_untrusted
from rir.results.models import SearchHit, SearchResult
from rir.results.region_parts import RegionPart, RegionsResult
from rir.urls import MAX_CITABLE_URL_CHARS, citable_url, long_url_note

__all__ = ["format_hits", "format_region_hits", "format_regions_tool_result",
           "format_tool_result", "region_notes"]


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


def format_region_hits(found: RegionsResult, *, max_hits: int = 10, max_chars: int = 6000,
                       max_title_chars: int = 200, max_snippet_chars: int = 300,
                       max_url_chars: int = MAX_CITABLE_URL_CHARS) -> str:
    """The merged hits of a region search grouped by region (without the fence).

    Each region gets a heading (``Region 2, top-left (120,40,560,380):``), its own best
    guess, and the hits of the merged top ``max_hits`` it ranked best, numbered in the
    order listed; a hit other regions found too says so. A failed region says why.
    """
    lines: list[str] = []
    used = number = omitted = 0
    for region, part, group in found.grouped_hits(max_hits):
        heading = [f"{part.heading(region)}:", *region_notes(part, bool(group))]
        for line in heading:
            lines.append(line)
            used += len(line) + 1
        for hit in group:
            number += 1
            url = citable_url(hit.url)
            if len(url) > max_url_chars:
                entry = long_url_note(number, url, max_url_chars)
            else:
                entry = _hit_entry(number, hit, url, max_title_chars, max_snippet_chars)
            others = [n + 1 for n in hit.metadata.get("regions") or [] if n != region - 1]
            if others:
                entry += f"\n    also found in region {', '.join(str(n) for n in others)}"
            if used + len(entry) + 1 > max_chars:
                omitted += 1
                continue
            lines.append(entry)
            used += len(entry) + 1
    if omitted:
        lines.append(f"[{omitted} more results omitted for length]")
    return "\n".join(lines)


def region_notes(part: RegionPart, listed: bool) -> list[str]:
    """The lines under a region's heading: why it failed, or its best guess, and what
    became of its matches when none is listed under it."""
    if part.error is not None:
        return [f"    (this region could not be searched: {part.error.error_type}: "
                f"{sanitize_untrusted(part.error.message, 200)})"]
    notes = []
    if part.result is not None and part.result.best_guess:
        notes.append(f"Best guess for this region: "
                     f"{sanitize_untrusted(part.result.best_guess, 120)}")
    if not listed:
        notes.append("    (its matches are listed under the other regions that found them)"
                     if part.result is not None and part.result.hits
                     else "    (no matching pages for this region)")
    return notes


def format_regions_tool_result(found: RegionsResult, *, engine: str | None = None,
                               max_hits: int = 10, max_chars: int = 4000) -> str:
    """What an agent tool returns for a region search: a header (engine, regions searched,
    matches), then :func:`format_region_hits` fenced as untrusted web text."""
    name = found.engine or engine or "search"
    count, regions = len(found.hits), len(found.parts)
    header = (f"Reverse image search ({name}) searched {regions} region"
              f"{'s' if regions != 1 else ''} of the image (boxes in pixels of the "
              f"{found.width}x{found.height} image) and found {count} "
              f"match{'es' if count != 1 else ''}.")
    failed = len(found.failed_parts)
    if failed:
        header += f" {failed} region{'s' if failed != 1 else ''} could not be searched."
    if not found.hits and not failed:
        return f"{header} {NO_MATCHES_ADVICE}"
    listing = format_region_hits(found, max_hits=max_hits, max_chars=max_chars)
    return f"{header}\n{fence(listing)}"
