"""The engine contract every reverse image search engine implements.

An engine subclasses :class:`Engine` and implements ``_asearch(image, k)`` for a
validated :class:`~rir.inputs.images.QueryImage`. The base class turns any image input
into a QueryImage, checks ``k``, times the call, trims and numbers the hits,
stamps engine name and query hash, and provides the sync twin ``search`` that
works from scripts, threads and Jupyter alike.

Region search goes through :meth:`Engine.asearch_boxes`: by default it crops each box
(enlarging small crops for web engines, see :func:`rir.inputs.crops.upscale_factor`)
and searches the crops concurrently; an engine that can do better (the local index:
describe the image once, match each box) overrides it and sets
``searches_boxes_natively``.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from rir._runtime import run_sync
from rir.errors import ConfigurationError
from rir.inputs.crops import acrop_boxes
from rir.inputs.images import ImageInput, QueryImage, aload_image
from rir.inputs.region import Box

if TYPE_CHECKING:
    from rir.results.models import SearchResult

__all__ = ["Engine", "check_k"]


def check_k(k: Any) -> int:
    """Validate a result count (a positive int) or raise ConfigurationError."""
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ConfigurationError(f"k must be a positive integer (number of hits), got {k!r}.")
    return k


class Engine(ABC):
    """Base class of reverse image search engines.

    Subclasses set ``name`` and implement :meth:`_asearch`. Those that hold network
    or browser resources override :meth:`aclose`.
    """

    name: ClassVar[str] = "engine"
    #: Whether results may be stored in the persistent result cache.
    cacheable: ClassVar[bool] = True
    #: True when asearch_boxes is cheaper than one search per box (the searcher then sends
    #: all boxes of a request in one call).
    searches_boxes_natively: ClassVar[bool] = False
    #: Whether the default asearch_boxes enlarges small crops (engines that search pixels
    #: on the web match ordinary photo sizes best; see rir.inputs.crops.upscale_factor).
    upscales_crops: ClassVar[bool] = True

    async def asearch(self, image: ImageInput | Any, *, k: int = 10) -> SearchResult:
        """Search for ``image`` and return at most ``k`` hits, best first."""
        check_k(k)
        query = image if isinstance(image, QueryImage) else await aload_image(image)
        started = time.perf_counter()
        result = await self._asearch(query, k=k)
        return finalize_result(
            result,
            engine=self.name,
            query_sha256=query.sha256,
            k=k,
            elapsed_s=time.perf_counter() - started,
        )

    def search(self, image: ImageInput | Any, *, k: int = 10) -> SearchResult:
        """Synchronous twin of :meth:`asearch`."""
        return run_sync(self.asearch(image, k=k))

    @abstractmethod
    async def _asearch(self, image: QueryImage, *, k: int) -> SearchResult:
        """Run the search for a validated image."""

    async def asearch_boxes(self, image: QueryImage, boxes: Sequence[Box], *,
                            k: int) -> list[SearchResult]:
        """One SearchResult per box (pixels of ``image``), in order, each as if the crop had
        been searched.

        Default: crop each box (enlarging small crops when ``upscales_crops``, by the rule
        of :func:`rir.inputs.crops.upscale_factor`) and search the crops concurrently; the
        engine's own limits (concurrency, pacing, rate limits) apply inside ``asearch``.
        """
        import asyncio

        check_k(k)
        crops = await acrop_boxes(image, boxes, upscale=self.upscales_crops)
        return list(await asyncio.gather(*(self.asearch(crop, k=k) for crop in crops)))

    def paid_calls(self) -> int:
        """Billed (or quota-metered) calls one search makes: 0 for free engines.

        Region searches multiply searches, so the searcher adds this up before it starts
        and refuses a request over its cap (``ReverseImageSearch(max_paid_calls=...)``).
        """
        return 0

    def cache_key_options(self) -> Mapping[str, Any]:
        """Options that change this engine's results (never secrets); part of cache keys."""
        return {}

    async def aclose(self) -> None:  # noqa: B027 - optional hook, most engines hold nothing
        """Release network clients, browsers and other resources."""

    def close(self) -> None:
        run_sync(self.aclose())

    async def __aenter__(self) -> Engine:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        options = ", ".join(f"{k}={v!r}" for k, v in self.cache_key_options().items())
        return f"{type(self).__name__}({options})"


def finalize_result(
    result: SearchResult, *, engine: str, query_sha256: str, k: int, elapsed_s: float
) -> SearchResult:
    """Trim to ``k`` hits, number them 1..n and stamp engine, hash and timing."""
    hits = [
        hit.model_copy(update={"position": i, "engine": hit.engine or engine})
        for i, hit in enumerate(result.hits[:k], start=1)
    ]
    return result.model_copy(
        update={
            "hits": hits,
            "engine": result.engine or engine,
            "query_sha256": query_sha256,
            "elapsed_s": round(elapsed_s, 4),
        }
    )
