"""``ReverseImageSearch``: an engine plus the result cache plus hit extraction.

    >>> from rir import ReverseImageSearch, Region
    >>> rir = ReverseImageSearch(engine="google_lens")
    >>> result = rir.search("photo.jpg", k=5)
    >>> outcomes = rir.search_many(["a.jpg", "b.jpg"], concurrency=4)
    >>> part = rir.search("screenshot.png", region=Region.from_grid(120, 80, 560, 700))
    >>> merged = rir.search_regions("collage.jpg", regions="auto", k=10)

Region searches crop on every engine through :meth:`rir.engines.Engine.asearch_boxes`
(the local index matches boxes natively); their cache keys cover the region; for paid
engines the calls a request will make are counted before it starts and capped.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from rir._runtime import ProgressBar, run_sync
from rir.engines import Engine, check_k, get_engine
from rir.errors import ConfigurationError, check_number
from rir.inputs.describe import describe_source
from rir.inputs.images import ImageInput, QueryImage, aload_image
from rir.inputs.policy import InputPolicy, input_policy
from rir.inputs.region import Region
from rir.inputs.region_plan import MAX_REGIONS, PlannedPart, plan_parts
from rir.results.cache import DEFAULT_TTL_S, ResultCache
from rir.results.cached_search import CachedSearch, Fetch, Prefetched
from rir.results.extract import ExtractOptions, apostprocess
from rir.results.models import SearchResult
from rir.results.region_parts import (
    RegionPart,
    RegionsResult,
    merge_part_hits,
    merged_best_guess,
)

__all__ = ["DEFAULT_MAX_PAID_CALLS", "ReverseImageSearch", "SearchOutcome"]

logger = logging.getLogger(__name__)

#: Paid calls one region search may make by default (the whole image plus automatic regions
#: fit, with room for a few boxes); ``ReverseImageSearch(max_paid_calls=...)`` changes it.
DEFAULT_MAX_PAID_CALLS = 8


@dataclass
class SearchOutcome:
    """One item of :meth:`ReverseImageSearch.search_many`: a result or the error it raised."""

    index: int
    source: str
    result: SearchResult | None = None
    error: Exception | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def unwrap(self) -> SearchResult:
        """The result, or raise the item's error."""
        if self.error is not None:
            raise self.error
        assert self.result is not None
        return self.result


class ReverseImageSearch:
    """Reverse image search with caching and result clean-up.

    Args:
        engine: an engine name (``"auto"``, ``"local"``, ``"google_lens"``, ``"serpapi"``, ...)
            or an :class:`~rir.engines.Engine` instance.
        cache: ``True`` for the default cache file, ``False`` to disable, a path, or a
            :class:`ResultCache`.
        cache_ttl_s: how long cached results stay valid.
        extract: how hits are cleaned (dedupe, title clean-up, domain filters, best guess,
            caption enrichment); ``None`` for the defaults, ``False`` to keep raw hits.
        policy: what is accepted as an image and the limits
            (:class:`~rir.inputs.policy.InputPolicy`); default ``InputPolicy()``, which
            reads local files (your code names them). Use ``InputPolicy.untrusted()`` when
            the images come from users, a model or an agent.
        allow_private_urls / allow_local_files: override the policy's settings of those
            names (private URLs also govern the pages enrichment fetches).
        max_image_bytes / max_image_pixels / image_timeout_s: override the policy's
            ``max_bytes``, ``max_pixels`` and ``timeout_s``.
        max_paid_calls: the most billed (or quota-metered) engine calls one region search
            may make (SerpApi credits, Cloud Vision units); a request that would make more
            fails before any call. Free engines are not counted.
        max_regions: the most parts (the whole image included) one region search covers.
        **engine_options: passed to :func:`rir.engines.get_engine` with the engine name.
    """

    def __init__(
        self,
        engine: str | Engine = "auto",
        *,
        cache: bool | str | os.PathLike[str] | ResultCache = True,
        cache_ttl_s: float = DEFAULT_TTL_S,
        extract: ExtractOptions | bool | None = None,
        policy: InputPolicy | None = None,
        allow_private_urls: bool | None = None,
        allow_local_files: bool | None = None,
        max_image_bytes: int | None = None,
        max_image_pixels: int | None = None,
        image_timeout_s: float | None = None,
        max_paid_calls: int = DEFAULT_MAX_PAID_CALLS,
        max_regions: int = MAX_REGIONS,
        **engine_options: Any,
    ) -> None:
        self.policy: InputPolicy = input_policy(
            policy, InputPolicy(), allow_private_urls=allow_private_urls,
            allow_local_files=allow_local_files, max_bytes=max_image_bytes,
            max_pixels=max_image_pixels, timeout_s=image_timeout_s)
        self.max_paid_calls = check_number("max_paid_calls", max_paid_calls, integer=True,
                                           minimum=0)
        self.max_regions = check_number("max_regions", max_regions, integer=True, minimum=1)
        self.engine: Engine = get_engine(engine, **engine_options)
        self.cache: ResultCache | None = _make_cache(cache, cache_ttl_s)
        self.extract: ExtractOptions | None = _extract_options(extract)

    # -- single search ------------------------------------------------------------------------

    async def aload(self, image: ImageInput | Any) -> QueryImage:
        """Load ``image`` as this searcher's policy allows."""
        return await aload_image(image, policy=self.policy)

    async def asearch(
        self,
        image: ImageInput | Any,
        *,
        k: int = 10,
        refresh: bool = False,
        show_result: bool = False,
        extract: ExtractOptions | bool | None = None,
        region: Region | Sequence[float] | str | None = None,
    ) -> SearchResult:
        """Search ``image`` (or the ``region`` of it) and return at most ``k`` cleaned hits.

        Cached results are reused unless ``refresh=True``. ``extract`` overrides this
        searcher's extraction options for this call (``False``: raw hits). When the
        clean-up drops hits (duplicates, domain filters), the engine is asked for more,
        so fewer than ``k`` hits come back only when the engine has no more.
        ``show_result=True`` draws the query beside the top hits (saved to a PNG
        when there is no display), the prototype's debug view.

        ``region``: search only this part of the image: a :class:`~rir.Region` (pixels,
        the 0-1000 grid or fractions) or a pixel box ``(x1, y1, x2, y2)``. The crop is
        searched on any engine; the result and each hit carry ``metadata["region"]``
        (the pixel box) and the cache keeps it apart from the whole image's.
        """
        check_k(k)
        options = self.extract if extract is None else _extract_options(extract)
        query = await self.aload(image)
        if region is None:
            result = await self._extracted(CachedSearch(self.engine, self.cache).fetcher(
                query, None), k=k, refresh=refresh, options=options)
        else:
            box = Region.parse(region).resolve(query.width, query.height)
            prefetched = await CachedSearch(self.engine, self.cache).aprefetch(
                query, [box], fetch_k=_first_fetch_k(k, options), refresh=refresh,
                max_paid_calls=self.max_paid_calls)
            result = await self._part_result(query, box, k=k, refresh=refresh, options=options,
                                             prefetched=prefetched)
        if show_result:
            from rir.results.debug_view import show_result as draw

            await asyncio.to_thread(draw, query, result)
        return result

    def search(
        self,
        image: ImageInput | Any,
        *,
        k: int = 10,
        refresh: bool = False,
        show_result: bool = False,
        extract: ExtractOptions | bool | None = None,
        region: Region | Sequence[float] | str | None = None,
    ) -> SearchResult:
        """Synchronous twin of :meth:`asearch`."""
        return run_sync(self.asearch(image, k=k, refresh=refresh, show_result=show_result,
                                     extract=extract, region=region))

    # -- regions ------------------------------------------------------------------------------

    async def asearch_regions(
        self,
        image: ImageInput | Any,
        regions: Any = "auto",
        *,
        k: int = 10,
        include_whole: bool = True,
        max_auto_regions: int | None = None,
        refresh: bool = False,
        show_result: bool = False,
        extract: ExtractOptions | bool | None = None,
        max_paid_calls: int | None = None,
    ) -> RegionsResult:
        """Search several parts of ``image`` and merge what they find.

        ``regions``: ``"auto"`` (parts worth searching, proposed from the pixels: photos
        inside a screenshot, a page or a collage), or a list of regions (:class:`~rir.Region`
        objects, pixel boxes, ``"x1,y1,x2,y2"`` strings). The whole image is searched too
        unless ``include_whole=False``. Parts run concurrently under the engine's own limits
        (an engine that matches boxes natively gets them all in one call); cached parts are
        not searched again, and nothing is cached from a failed part.

        Returns a :class:`~rir.results.region_parts.RegionsResult`: ``.parts`` (each with its
        region, origin, label and result, or error: a failed part does not sink the others)
        and ``.hits``, one merged ranking of at most ``k`` hits (the rule is in
        :mod:`rir.results.region_parts`). When every part fails, the first part's error is
        raised. For paid engines the calls the request will make are counted first; more
        than ``max_paid_calls`` (default: the searcher's) is an
        :class:`~rir.errors.InvalidRegionError` before any call.
        """
        check_k(k)
        started = time.perf_counter()
        options = self.extract if extract is None else _extract_options(extract)
        cap = self.max_paid_calls if max_paid_calls is None else check_number(
            "max_paid_calls", max_paid_calls, integer=True, minimum=0)
        if max_auto_regions is not None:
            check_number("max_auto_regions", max_auto_regions, integer=True, minimum=1)
        query = await self.aload(image)
        planned, duplicates = await asyncio.to_thread(
            plan_parts, query, regions, include_whole=include_whole,
            max_regions=self.max_regions, max_auto_regions=max_auto_regions)
        boxes = [None if p.origin == "whole" else p.region for p in planned]
        prefetched = await CachedSearch(self.engine, self.cache).aprefetch(
            query, boxes, fetch_k=_first_fetch_k(k, options), refresh=refresh,
            max_paid_calls=cap)

        async def run(part_plan: PlannedPart, box: Region | None) -> RegionPart:
            try:
                result = await self._part_result(query, box, k=k, refresh=refresh,
                                                 options=options, prefetched=prefetched)
            except Exception as exc:  # noqa: BLE001 - one failed part must not sink the others
                logger.info("region search: %s failed: %s", part_plan.region, exc)
                return RegionPart.failed(part_plan.region, part_plan.origin, part_plan.label,
                                         self.engine.name, exc)
            return RegionPart(region=part_plan.region, origin=part_plan.origin,
                              label=part_plan.label, result=result)

        parts = list(await asyncio.gather(*(run(p, b) for p, b in zip(planned, boxes,
                                                                       strict=True))))
        if not any(part.ok for part in parts):
            parts[0].unwrap()  # every part failed: raise the first one's error
        hits, total = merge_part_hits(parts, k)
        found = RegionsResult(
            parts=parts, hits=hits, best_guess=merged_best_guess(parts), engine=self.engine.name,
            query_sha256=query.sha256, width=query.width, height=query.height,
            elapsed_s=round(time.perf_counter() - started, 4),
            metadata={"merged_hits": total, "hits_not_shown": total - len(hits),
                      "paid_calls": prefetched.paid_calls,
                      "duplicate_regions_dropped": duplicates})
        if show_result:
            from rir.results.debug_view import show_result as draw

            await asyncio.to_thread(draw, query, found)
        return found

    def search_regions(
        self,
        image: ImageInput | Any,
        regions: Any = "auto",
        *,
        k: int = 10,
        include_whole: bool = True,
        max_auto_regions: int | None = None,
        refresh: bool = False,
        show_result: bool = False,
        extract: ExtractOptions | bool | None = None,
        max_paid_calls: int | None = None,
    ) -> RegionsResult:
        """Synchronous twin of :meth:`asearch_regions`."""
        return run_sync(self.asearch_regions(
            image, regions, k=k, include_whole=include_whole, max_auto_regions=max_auto_regions,
            refresh=refresh, show_result=show_result, extract=extract,
            max_paid_calls=max_paid_calls))

    async def _part_result(self, query: QueryImage, box: Region | None, *, k: int,
                           refresh: bool, options: ExtractOptions | None,
                           prefetched: Prefetched | None = None) -> SearchResult:
        """One region's cleaned result, its result and hits carrying ``metadata["region"]``
        (``box`` ``None``: the whole image). Paid engines are not asked again for more hits:
        a request makes only the calls counted before it started."""
        fetch = CachedSearch(self.engine, self.cache).fetcher(query, box, prefetched)
        result = await self._extracted(fetch, k=k, refresh=refresh, options=options,
                                       ask_again=self.engine.paid_calls() == 0)
        where = (box or Region(0, 0, query.width, query.height)).as_list()
        hits = [hit.model_copy(update={"metadata": {**hit.metadata, "region": where}})
                for hit in result.hits]
        return result.model_copy(update={"hits": hits, "query_sha256": query.sha256,
                                         "metadata": {**result.metadata, "region": where}})

    async def _extracted(self, fetch: Fetch, *, k: int, refresh: bool,
                         options: ExtractOptions | None, ask_again: bool = True) -> SearchResult:
        """The engine's (or the cache's) hits, cleaned by ``options``, trimmed to ``k``.

        Dedupe and domain filters drop hits, so the engine is asked for a few more than
        ``k``; if the clean-up still leaves fewer than ``k`` while the engine returned all
        it was asked for (so it may hold more), it is asked once more for twice as many
        (unless ``ask_again=False``).
        """
        if options is None:
            return (await fetch(k, refresh)).top(k)
        fetch_k = _first_fetch_k(k, options)
        for attempt in range(2):
            raw = await fetch(fetch_k, refresh and attempt == 0)
            result = await apostprocess(raw, options,
                                        allow_private_urls=self.policy.allow_private_urls)
            if len(result.hits) >= k or len(raw.hits) < fetch_k or not _drops_hits(options) \
                    or not ask_again:
                break
            fetch_k *= 2
        return result.top(k)

    # -- batches ------------------------------------------------------------------------------

    async def asearch_many(
        self,
        images: Iterable[ImageInput | Any],
        *,
        k: int = 10,
        concurrency: int = 4,
        progress: bool | None = None,
        refresh: bool = False,
    ) -> list[SearchOutcome]:
        """Search many images with at most ``concurrency`` at a time.

        Returns one :class:`SearchOutcome` per input, in input order: a failing image
        is reported in its outcome and never stops the others. ``progress=None``
        shows a progress bar when stderr is a terminal.
        """
        check_k(k)
        if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
            raise ConfigurationError(
                f"concurrency must be a positive integer, got {concurrency!r}."
            )
        items: Sequence[Any] = list(images)
        semaphore = asyncio.Semaphore(concurrency)
        show = sys.stderr.isatty() if progress is None else progress
        bar = ProgressBar(len(items), label="searching", enabled=show, count_failures=True)

        async def run_one(index: int, image: Any) -> SearchOutcome:
            outcome = SearchOutcome(index=index, source=describe_source(image))
            async with semaphore:
                try:
                    outcome.result = await self.asearch(image, k=k, refresh=refresh)
                except Exception as exc:  # noqa: BLE001 - one bad item must not sink the batch
                    logger.info("search_many: item %d (%s) failed: %s", index, outcome.source, exc)
                    outcome.error = exc
            bar.advance(ok=outcome.ok)
            return outcome

        with bar:
            return list(await asyncio.gather(*(run_one(i, im) for i, im in enumerate(items))))

    def search_many(
        self,
        images: Iterable[ImageInput | Any],
        *,
        k: int = 10,
        concurrency: int = 4,
        progress: bool | None = None,
        refresh: bool = False,
    ) -> list[SearchOutcome]:
        """Synchronous twin of :meth:`asearch_many`."""
        return run_sync(self.asearch_many(images, k=k, concurrency=concurrency,
                                          progress=progress, refresh=refresh))

    # -- lifecycle ----------------------------------------------------------------------------

    async def aclose(self) -> None:
        await self.engine.aclose()

    def close(self) -> None:
        self.engine.close()
        if self.cache is not None:
            self.cache.close()

    async def __aenter__(self) -> ReverseImageSearch:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def __enter__(self) -> ReverseImageSearch:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"ReverseImageSearch(engine={self.engine!r}, cache={self.cache!r})"


def _extract_options(extract: ExtractOptions | bool | None) -> ExtractOptions | None:
    if extract is None or extract is True:
        return ExtractOptions()
    if extract is False:
        return None
    if not isinstance(extract, ExtractOptions):
        raise ConfigurationError(
            f"extract must be an ExtractOptions, True, False or None, got {extract!r}."
        )
    return extract


def _drops_hits(options: ExtractOptions) -> bool:
    return options.dedupe or options.allow_domains is not None or bool(options.deny_domains)


def _first_fetch_k(k: int, options: ExtractOptions | None) -> int:
    """Hits asked for first: a few more than ``k`` when the clean-up may drop some."""
    return min(2 * k, k + 10) if options is not None and _drops_hits(options) else k


def _make_cache(
    cache: bool | str | os.PathLike[str] | ResultCache, ttl_s: float
) -> ResultCache | None:
    if isinstance(cache, ResultCache):
        return cache
    if cache is False or cache is None:
        return None
    if cache is True:
        return ResultCache(ttl_s=ttl_s)
    if isinstance(cache, (str, os.PathLike)):
        return ResultCache(cache, ttl_s=ttl_s)
    raise ConfigurationError(
        f"cache must be True, False, a path or a ResultCache, got {type(cache).__name__}."
    )
