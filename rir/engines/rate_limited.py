"""``RateLimitedEngine``: a per-engine request budget, whatever the engine (evaluation runs
use it for ``--rate-limit``).

:class:`RateLimitedEngine` wraps any engine and spaces the starts of its
searches at least ``1 / requests_per_second`` apart, across every task and
thread that uses it. It sits below the result cache, so cached items are not
slowed down; it keeps the inner engine's name and cache options, so cached
results are shared with runs that did not limit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rir.engines import Engine
from rir.engines.pacing import StartSpacer
from rir.errors import ConfigurationError
from rir.inputs.images import QueryImage
from rir.inputs.region import Box
from rir.results.models import SearchResult

__all__ = ["RateLimitedEngine"]


class RateLimitedEngine(Engine):
    """``inner`` with at most ``requests_per_second`` search starts per second."""

    def __init__(self, inner: Engine, requests_per_second: float) -> None:
        if not isinstance(inner, Engine):
            raise ConfigurationError(f"RateLimitedEngine wraps an rir Engine, got "
                                     f"{type(inner).__name__}.")
        self.inner = inner
        self.spacer = StartSpacer(requests_per_second)
        self.name = inner.name  # type: ignore[misc]  # results and cache keys stay the inner's
        self.cacheable = inner.cacheable  # type: ignore[misc]
        self.searches_boxes_natively = inner.searches_boxes_natively  # type: ignore[misc]
        self.upscales_crops = inner.upscales_crops  # type: ignore[misc]

    async def asearch(self, image: Any, *, k: int = 10) -> SearchResult:
        await self.spacer.wait()
        return await self.inner.asearch(image, k=k)

    async def _asearch(self, image: QueryImage, *, k: int) -> SearchResult:
        return await self.asearch(image, k=k)

    async def asearch_boxes(self, image: QueryImage, boxes: Sequence[Box], *,
                            k: int) -> list[SearchResult]:
        """An engine that searches boxes in one call is paced as one search; otherwise each
        crop's search waits its turn (the default, through :meth:`asearch`)."""
        if not self.inner.searches_boxes_natively:
            return await super().asearch_boxes(image, boxes, k=k)
        await self.spacer.wait()
        return await self.inner.asearch_boxes(image, boxes, k=k)

    def paid_calls(self) -> int:
        return self.inner.paid_calls()

    def cache_key_options(self) -> Mapping[str, Any]:
        return self.inner.cache_key_options()

    async def aclose(self) -> None:
        await self.inner.aclose()

    def close(self) -> None:
        self.inner.close()

    def __repr__(self) -> str:
        return f"RateLimitedEngine({self.inner!r}, {1 / self.spacer.interval:g}/s)"
