"""``FusionEngine``: engines queried concurrently, their hits merged by reciprocal-rank fusion.

    >>> from rir.engines import get_engine
    >>> fused = get_engine("fusion", engines=["serpapi", "picimagesearch:bing"])

Hits are merged by canonical URL; each keeps its provenance in
``metadata["provenance"]``. Whatever succeeded is returned; failures are listed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from rir.engines.base import Engine
from rir.engines.composite import CompositeEngine, EngineSpec, engine_failure, failure_summary
from rir.engines.http.secrets import protected_logger, redact_text
from rir.errors import AllEnginesFailedError, EngineError, InvalidImageError, check_number
from rir.inputs.images import QueryImage
from rir.results.best_guess import vote_guesses
from rir.results.models import EngineFailure, Entity, SearchHit, SearchResult
from rir.urls import canonical_url

__all__ = ["AllEnginesFailedError", "FusionEngine"]

logger = protected_logger(__name__)


@dataclass
class _Bucket:
    score: float = 0.0
    entries: list[tuple[str, int, SearchHit]] = field(default_factory=list)
    shares: list[float] = field(default_factory=list)  # each entry's weighted contribution


class FusionEngine(CompositeEngine):
    """Query ``engines`` concurrently and merge their hits with reciprocal-rank fusion.

    A page's fused score is the sum over engines of ``weight / (rrf_k + rank)``; hits are
    merged by canonical URL (page URL, else image URL).

    Args:
        engines: engine names, ``(name, options)`` pairs or :class:`Engine` instances.
        rrf_k: the RRF damping constant (60 in the original paper).
        weights: per-engine weights by engine name (default 1.0).
        per_engine_k: hits to ask each engine for (default: the search's ``k``).
        timeout_s: give each engine at most this long.
    """

    name = "fusion"

    def __init__(self, engines: Sequence[EngineSpec], *, rrf_k: float = 60.0,
                 weights: Mapping[str, float] | None = None, per_engine_k: int | None = None,
                 timeout_s: float | None = None) -> None:
        super().__init__(engines, timeout_s=timeout_s)
        check_number("fusion: rrf_k", rrf_k, minimum=0)
        if per_engine_k is not None:
            check_number("fusion: per_engine_k", per_engine_k, integer=True, minimum=1)
        self.rrf_k = float(rrf_k)
        self.weights = dict(weights or {})
        self.per_engine_k = per_engine_k

    def cache_key_options(self) -> Mapping[str, Any]:
        return {**super().cache_key_options(), "rrf_k": self.rrf_k,
                "weights": dict(sorted(self.weights.items())), "per_engine_k": self.per_engine_k}

    async def _asearch(self, image: QueryImage, *, k: int) -> SearchResult:
        inner_k = self.per_engine_k or k
        outcomes = await asyncio.gather(*(self._run(e, image, inner_k) for e in self.engines),
                                        return_exceptions=True)
        answered: list[tuple[Engine, SearchResult]] = []
        failures: list[EngineFailure] = []
        for engine, outcome in zip(self.engines, outcomes, strict=True):
            if isinstance(outcome, (EngineError, InvalidImageError)):
                failures.append(engine_failure(engine, outcome))
                logger.info("fusion: %s failed (%s: %s)", engine.name, type(outcome).__name__,
                            redact_text(str(outcome)))
            elif isinstance(outcome, BaseException):
                raise outcome  # a bug or cancellation, not an engine failure
            else:
                answered.append((engine, outcome))
        if not answered:
            raise AllEnginesFailedError(
                f"All {len(self.engines)} engines of the fusion failed: "
                f"{failure_summary(failures)}",
                engine=self.name, failures=failures,
            )
        return SearchResult(
            hits=self._fuse([(e.name, r.hits) for e, r in answered]),
            best_guess=vote_guesses(r.best_guess for _e, r in answered),
            entities=_merge_entities([r.entities for _e, r in answered]),
            page_url=next((r.page_url for _e, r in answered if r.page_url), None),
            screenshot=next((r.screenshot for _e, r in answered if r.screenshot), None),
            failures=[*failures, *(f for _e, r in answered for f in r.failures)],
            metadata={"fusion": {"answered": [e.name for e, _r in answered],
                                 "failed": [f.engine for f in failures], "rrf_k": self.rrf_k}},
        )

    def _fuse(self, ranked: list[tuple[str, list[SearchHit]]]) -> list[SearchHit]:
        buckets: dict[str, _Bucket] = {}
        for engine_name, hits in ranked:
            weight = float(self.weights.get(engine_name, 1.0))
            for rank, hit in enumerate(hits, start=1):
                key = canonical_url(hit.url or hit.image_url) or f"{engine_name}#{rank}"
                bucket = buckets.setdefault(key, _Bucket())
                share = weight / (self.rrf_k + rank)
                bucket.score += share
                bucket.entries.append((engine_name, rank, hit))
                bucket.shares.append(share)
        fused = [_merged_hit(bucket) for bucket in buckets.values()]
        fused.sort(key=lambda hit: -(hit.score or 0.0))  # stable: ties keep first appearance
        return fused


def _merged_hit(bucket: _Bucket) -> SearchHit:
    """The hit that contributed most (ties: first engine), gaps filled from the others,
    with provenance."""
    best_index = max(range(len(bucket.entries)), key=lambda i: (bucket.shares[i], -i))
    best = bucket.entries[best_index][2]
    updates: dict[str, Any] = {}
    for field_name in ("title", "url", "image_url", "thumbnail_url", "snippet", "source",
                       "width", "height"):
        if not getattr(best, field_name):
            donor = next((h for _n, _r, h in bucket.entries if getattr(h, field_name)), None)
            if donor is not None:
                updates[field_name] = getattr(donor, field_name)
    if any(h.match_type == "exact" for _n, _r, h in bucket.entries):
        updates["match_type"] = "exact"
    provenance = [{"engine": name, "rank": rank, "url": hit.url, "match_type": hit.match_type,
                   "score": hit.score} for name, rank, hit in bucket.entries]
    engines = list(dict.fromkeys(name for name, _r, _h in bucket.entries))
    updates["score"] = bucket.score
    updates["metadata"] = {**best.metadata, "provenance": provenance, "engines": engines,
                           "engine_scores": {p["engine"]: p["score"] for p in provenance
                                             if p["score"] is not None}}
    return best.model_copy(update=updates)


def _merge_entities(groups: list[list[Entity]]) -> list[Entity]:
    merged: dict[str, Entity] = {}
    for entities in groups:
        for entity in entities:
            key = entity.name.strip().casefold()
            seen = merged.get(key)
            if seen is None:
                merged[key] = entity
                continue
            updates: dict[str, Any] = {}
            if entity.score is not None and (seen.score is None or entity.score > seen.score):
                updates["score"] = entity.score
            for name in ("type", "url", "description"):
                if getattr(seen, name) is None and getattr(entity, name) is not None:
                    updates[name] = getattr(entity, name)
            merged[key] = seen.model_copy(update=updates) if updates else seen
    return list(merged.values())
