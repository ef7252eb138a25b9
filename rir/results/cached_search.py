"""The engine behind the result cache: one search of the whole image or of a box of it.

:class:`CachedSearch` is what :class:`rir.ReverseImageSearch` calls to reach an engine:
it looks the search up in the cache, runs it on a miss and stores the answer. A box has
its own cache key (the engine's options, the image's hash, the box and the crop rule), so
a region's result never stands in for the whole image's or another region's.

For a region request, :meth:`CachedSearch.aprefetch` runs before anything is searched:
it finds the parts already cached, counts the paid calls the others need (refusing a
request over the cap with one error before any call), and hands an engine that matches
boxes natively all the missing boxes in one call.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from rir.engines.base import Engine, finalize_result
from rir.errors import InvalidRegionError
from rir.inputs.images import QueryImage
from rir.inputs.region import Box, Region
from rir.results.cache import ResultCache
from rir.results.models import SearchResult

__all__ = ["CROP_RULE", "CachedSearch", "Fetch", "Prefetched"]

# Part of a region's cache key: a change to how crops are cut or enlarged re-searches them.
CROP_RULE = 1
#: ``await fetch(k, refresh)``: the raw result of one search (whole image or one box).
Fetch = Callable[[int, bool], Awaitable[SearchResult]]


@dataclass
class Prefetched:
    """The searches of a region request done before its parts run (cache, one native call).

    ``results`` maps a box (``None``: the whole image) to its result at ``fetch_k`` hits,
    or to the exception its search raised; ``paid_calls`` is what the request costs.
    """

    fetch_k: int
    results: dict[Box | None, SearchResult | BaseException] = field(default_factory=dict)
    paid_calls: int = 0


class CachedSearch:
    """``engine`` behind ``cache`` (``None``, or an engine that is not cacheable: no cache)."""

    def __init__(self, engine: Engine, cache: ResultCache | None) -> None:
        self.engine = engine
        self.cache = cache if engine.cacheable else None

    def key(self, query: QueryImage, box: Region | None) -> str | None:
        if self.cache is None:
            return None
        options = dict(self.engine.cache_key_options())
        if box is not None:  # a region is its own search; the whole image keeps its old key
            options.update(region=box.as_list(), crop=CROP_RULE)
        return self.cache.make_key(self.engine.name, options, query.sha256)

    async def alookup(self, query: QueryImage, box: Region | None,
                      k: int) -> SearchResult | None:
        key = self.key(query, box)
        cached = await self.cache.aget(key, k=k) if key is not None and self.cache else None
        if cached is None:
            return None
        return finalize_result(cached, engine=self.engine.name, query_sha256=query.sha256, k=k,
                               elapsed_s=cached.elapsed_s)

    async def astore(self, query: QueryImage, box: Region | None, result: SearchResult,
                     k: int) -> None:
        key = self.key(query, box)
        if key is not None and self.cache is not None:
            await self.cache.aput(key, result, k=k)

    async def asearch(self, query: QueryImage, box: Region | None, *, k: int,
                      refresh: bool = False) -> SearchResult:
        """The cached result, else the engine's (then cached): the whole image (``box`` is
        ``None``) through ``asearch``, a box through ``asearch_boxes``."""
        cached = None if refresh else await self.alookup(query, box, k)
        if cached is not None:
            return cached
        if box is None:
            result = await self.engine.asearch(query, k=k)
        else:
            [result] = await self.engine.asearch_boxes(query, [box.box], k=k)
        await self.astore(query, box, result, k)
        return result

    def fetcher(self, query: QueryImage, box: Region | None,
                prefetched: Prefetched | None = None) -> Fetch:
        """``fetch(k, refresh)`` for one part: what ``prefetched`` holds for it (once, at its
        ``fetch_k``), else :meth:`asearch`."""
        async def fetch(k: int, refresh: bool) -> SearchResult:
            key = None if box is None else box.box
            if prefetched is not None and k == prefetched.fetch_k and key in prefetched.results:
                found = prefetched.results.pop(key)
                if isinstance(found, BaseException):
                    raise found
                return found
            return await self.asearch(query, box, k=k, refresh=refresh)

        return fetch

    async def aprefetch(self, query: QueryImage, boxes: Sequence[Region | None], *,
                        fetch_k: int, refresh: bool, max_paid_calls: int) -> Prefetched:
        """Look every part up, count the paid calls the missing ones need (more than
        ``max_paid_calls`` is an :class:`~rir.errors.InvalidRegionError`, before any call),
        and search the missing ones in one call if the engine matches boxes natively.
        ``None`` stands for the whole image (sent as the full box in a native call)."""
        found = Prefetched(fetch_k)
        missing: list[Region | None] = []
        for box in boxes:
            cached = None if refresh else await self.alookup(query, box, fetch_k)
            if cached is None:
                missing.append(box)
            else:
                found.results[None if box is None else box.box] = cached
        per_search = self.engine.paid_calls()
        native = self.engine.searches_boxes_natively and bool(missing)
        found.paid_calls = per_search * (1 if native else len(missing))
        if found.paid_calls > max_paid_calls:
            parts = f"{len(missing)} part{'s' if len(missing) != 1 else ''}"
            raise InvalidRegionError(
                f"This search would make {found.paid_calls} paid {self.engine.name} calls "
                f"({parts} not in the cache, {per_search} call{'s' if per_search != 1 else ''}"
                f" each), over the cap of {max_paid_calls} (max_paid_calls); search fewer "
                "regions, or raise max_paid_calls.")
        if native:
            whole = Region(0, 0, query.width, query.height)
            try:
                results: list[Any] = await self.engine.asearch_boxes(
                    query, [(box or whole).box for box in missing], k=fetch_k)
            except Exception as exc:  # noqa: BLE001 - each part it concerns reports it
                results = [exc] * len(missing)
            for box, result in zip(missing, results, strict=True):
                found.results[None if box is None else box.box] = result
                if not isinstance(result, BaseException):
                    await self.astore(query, box, result, fetch_k)
        return found
