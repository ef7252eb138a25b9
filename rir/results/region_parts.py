"""The outcome of a region search: one part per region searched, and one merged ranking.

:class:`RegionsResult` (**contract**) holds ``.parts``, each a :class:`RegionPart` with
``.region`` (a pixel :class:`~rir.inputs.region.Region`), ``.origin`` (``"whole"``,
``"auto"`` or ``"given"``), ``.label`` (where it sits, in words) and ``.result`` (its
:class:`~rir.results.models.SearchResult`), or ``.error`` when that part failed; and
``.hits``, one merged, de-duplicated ranking in which every hit says which parts found
it (``metadata["regions"]``: indices into ``.parts``) and where the part that ranked it
best lies (``metadata["region"]``: ``[x1, y1, x2, y2]`` in pixels).

The merge (:func:`merge_part_hits`) ranks by two rules:

1. Each part's best hit comes first: the hits that some part ranked first lead the merged
   ranking, so a region's strong match is never pushed down (or out of the top ``k``) by
   another region's many hits, nor by hits that overlapping regions (the whole image and a
   photo inside it) found twice.
2. Within that lead group and after it, hits are ordered by reciprocal-rank fusion with a
   small offset: a hit scores ``1 / (rank + 1)`` in every part that found it (rank 1 gives
   0.5, rank 2 0.33, rank 3 0.25 ...), summed over the parts. Ranks, not engine scores,
   so that parts compare on equal terms; offset 1, not RRF's usual 60, so that the top of
   each part counts most. A hit several parts found ranks above one that a single part
   found at the same rank (found at rank 2 by two parts, 0.67, it beats any hit a single
   part found at rank 2 or below).

Ties go to the better single rank, then to the earlier part. Hits are the same hit when
they show the same indexed page (the local engine's ``page_id``), else the same canonical
page URL (image URL when there is no page), else the same title on the same site.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from rir.errors import EngineError
from rir.inputs.region import Region
from rir.results.best_guess import vote_guesses
from rir.results.models import EngineFailure, SearchHit, SearchResult
from rir.urls import canonical_url

__all__ = ["MERGE_RANK_OFFSET", "Origin", "RegionPart", "RegionsResult", "hit_identity",
           "merge_part_hits", "merged_best_guess"]

Origin = Literal["whole", "auto", "given"]
#: The merge scores a hit 1 / (rank + MERGE_RANK_OFFSET) in each part that found it.
MERGE_RANK_OFFSET = 1
_ORIGIN_NOTE = {"whole": "", "auto": ", found automatically", "given": ""}


class RegionPart(BaseModel):
    """One searched part of the image: where it is, why it was searched, what it found."""

    model_config = ConfigDict(extra="forbid")

    region: Region = Field(description="The part searched, in pixels of the image.")
    origin: Origin = Field(description="'whole' (the whole image), 'auto' (proposed from the "
                           "pixels) or 'given' (asked for).")
    label: str = Field(description="Where the part sits, in words ('top-left', 'whole "
                       "image', ...).")
    result: SearchResult | None = None
    error: EngineFailure | None = Field(default=None, description="Why the part failed.")
    _exception: BaseException | None = PrivateAttr(default=None)

    @property
    def ok(self) -> bool:
        return self.error is None and self.result is not None

    def unwrap(self) -> SearchResult:
        """The part's result, or raise its error (the original exception when known)."""
        if self.result is not None and self.error is None:
            return self.result
        if self._exception is not None:
            raise self._exception
        message = self.error.message if self.error else "the part was not searched"
        raise EngineError(message, engine=self.error.engine if self.error else None)

    def heading(self, number: int) -> str:
        """``Region 2, top-left (120,40,560,380)``: how prompts and tables name the part."""
        box = ",".join(str(v) for v in self.region.box)
        return f"Region {number}, {self.label} ({box}){_ORIGIN_NOTE[self.origin]}"

    @classmethod
    def failed(cls, region: Region, origin: Origin, label: str, engine: str,
               exc: BaseException) -> RegionPart:
        part = cls(region=region, origin=origin, label=label,
                   error=EngineFailure(engine=engine, error_type=type(exc).__name__,
                                       message=" ".join(str(exc).split())
                                       or type(exc).__name__))
        part._exception = exc
        return part


class RegionsResult(BaseModel):
    """A region search: the parts searched and one merged ranking of what they found."""

    model_config = ConfigDict(extra="forbid")

    parts: list[RegionPart]
    hits: list[SearchHit] = Field(default_factory=list, description="The merged ranking "
                                  "(at most k); each hit's metadata names its regions.")
    best_guess: str | None = Field(default=None, description="The guess most parts agree on; "
                                   "each part keeps its own.")
    engine: str = ""
    query_sha256: str = ""
    width: int = Field(description="The image's width in pixels (EXIF orientation applied).")
    height: int
    elapsed_s: float = 0.0
    metadata: dict[str, Any] = Field(default_factory=dict)

    @property
    def failed_parts(self) -> list[RegionPart]:
        return [part for part in self.parts if not part.ok]

    def grouped_hits(self, max_hits: int | None = None
                     ) -> list[tuple[int, RegionPart, list[SearchHit]]]:
        """``(number, part, hits)`` for each part in order (``number`` is 1-based, as prompts
        name it): the merged top ``max_hits`` hits, each under the part that ranked it best."""
        shown = self.hits if max_hits is None else self.hits[:max_hits]
        return [(index + 1, part, [hit for hit in shown if self.part_index(hit) == index])
                for index, part in enumerate(self.parts)]

    def part_index(self, hit: SearchHit) -> int | None:
        """The index in ``parts`` of the part that ranked ``hit`` best (its
        ``metadata["region"]``), or None for a hit that is not from this search."""
        where = hit.metadata.get("region")
        return next((n for n, p in enumerate(self.parts) if p.region.as_list() == where), None)

    def as_search_result(self) -> SearchResult:
        """The merged ranking as one :class:`SearchResult` (for code that takes one): the
        whole part's screenshot and entities, each failed part listed in ``failures`` and
        the parts summarised in ``metadata["regions"]``."""
        whole = next((p.result for p in self.parts if p.origin == "whole" and p.result), None)
        first = whole or next((p.result for p in self.parts if p.result is not None), None)
        failures = [EngineFailure(engine=f"{p.error.engine} [{p.heading(n)}]",
                                  error_type=p.error.error_type, message=p.error.message)
                    for n, p in enumerate(self.parts, 1) if p.error is not None]
        summary = [{"number": n, "region": p.region.as_list(), "origin": p.origin,
                    "label": p.label, "hits": len(p.result.hits) if p.result else 0,
                    "best_guess": p.result.best_guess if p.result else None,
                    "error": f"{p.error.error_type}: {p.error.message}" if p.error else None}
                   for n, p in enumerate(self.parts, 1)]
        results = [p.result for p in self.parts if p.result is not None]
        return SearchResult(
            hits=self.hits, best_guess=self.best_guess, engine=self.engine,
            query_sha256=self.query_sha256, elapsed_s=self.elapsed_s,
            from_cache=bool(results) and all(r.from_cache for r in results),
            entities=first.entities if first else [],
            screenshot=whole.screenshot if whole else None,
            page_url=first.page_url if first else None, failures=failures,
            metadata={**self.metadata, "regions": summary})

    def __repr_args__(self):  # keep reprs short: parts and hits are summarised
        for name, value in super().__repr_args__():
            if name == "hits":
                yield name, f"<{len(self.hits)} hits>"
            elif name == "parts":
                yield name, [f"{p.origin} {p.region.box} "
                             f"{'ok' if p.ok else 'failed'}" for p in self.parts]
            else:
                yield name, value


def hit_identity(hit: SearchHit) -> str | None:
    """What makes two hits the same hit across parts (see the module docstring)."""
    page = hit.metadata.get("page_id")
    if page:
        return f"page:{page}"
    for url in (hit.url, hit.image_url):
        if url and not url.startswith("data:"):
            key = canonical_url(url)
            if key:
                return key
    if hit.title.strip():
        return f"title:{hit.title.strip().casefold()}|{(hit.source or '').casefold()}"
    return None


@dataclass
class _Found:
    score: float = 0.0
    best: tuple[int, int, SearchHit] | None = None  # (rank, part index, hit)
    parts: list[int] = field(default_factory=list)


def merge_part_hits(parts: Sequence[RegionPart], k: int) -> tuple[list[SearchHit], int]:
    """The merged ranking of the parts' hits (at most ``k``) and how many distinct hits
    there were in all; the rule is in the module docstring."""
    found: dict[str, _Found] = {}
    for index, part in enumerate(parts):
        if part.result is None:
            continue
        for rank, hit in enumerate(part.result.hits, start=1):
            key = hit_identity(hit) or f"part {index} rank {rank}"
            entry = found.setdefault(key, _Found())
            entry.score += 1.0 / (rank + MERGE_RANK_OFFSET)
            if index not in entry.parts:
                entry.parts.append(index)
            if entry.best is None or rank < entry.best[0]:
                entry.best = (rank, index, hit)
    ordered = sorted(found.values(),  # rule 1: parts' best hits first; rule 2: fused score
                     key=lambda e: (e.best[0] > 1, -e.score, e.best[0], e.best[1]))  # type: ignore[index]
    merged = []
    for position, entry in enumerate(ordered[:k], start=1):
        assert entry.best is not None
        _rank, index, hit = entry.best
        metadata = {**hit.metadata, "region": parts[index].region.as_list(),
                    "regions": sorted(entry.parts), "merged_score": round(entry.score, 4)}
        merged.append(hit.model_copy(update={"position": position, "metadata": metadata}))
    return merged, len(found)


def merged_best_guess(parts: Sequence[RegionPart]) -> str | None:
    """The best guess most parts agree on (ties: the earlier part, the whole image first)."""
    return vote_guesses(p.result.best_guess for p in parts if p.result is not None)
