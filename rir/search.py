"""``ReverseImageSearch``: an engine plus the result cache plus hit extraction.

    >>> from rir import ReverseImageSearch
    >>> rir = ReverseImageSearch(engine="google_lens")
    >>> result = rir.search("photo.jpg", k=5)
    >>> outcomes = rir.search_many(["a.jpg", "b.jpg"], concurrency=4)
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from rir._runtime import ProgressBar, run_sync
from rir.engines import Engine, check_k, get_engine
from rir.engines.base import finalize_result
from rir.errors import ConfigurationError
from rir.inputs.describe import describe_source
from rir.inputs.images import ImageInput, QueryImage, aload_image
from rir.inputs.policy import InputPolicy, input_policy
from rir.results.cache import DEFAULT_TTL_S, ResultCache
from rir.results.extract import ExtractOptions, apostprocess
from rir.results.models import SearchResult

__all__ = ["ReverseImageSearch", "SearchOutcome"]

logger = logging.getLogger(__name__)


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
        **engine_options: Any,
    ) -> None:
        self.policy: InputPolicy = input_policy(
            policy, InputPolicy(), allow_private_urls=allow_private_urls,
            allow_local_files=allow_local_files, max_bytes=max_image_bytes,
            max_pixels=max_image_pixels, timeout_s=image_timeout_s)
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
    ) -> SearchResult:
        """Search ``image`` and return at most ``k`` cleaned hits.

        Cached results are reused unless ``refresh=True``. ``extract`` overrides this
        searcher's extraction options for this call (``False``: raw hits). When the
        clean-up drops hits (duplicates, domain filters), the engine is asked for more,
        so fewer than ``k`` hits come back only when the engine has no more.
        ``show_result=True`` draws the query beside the top hits (saved to a PNG
        when there is no display), the prototype's debug view.
        """
        check_k(k)
        options = self.extract if extract is None else _extract_options(extract)
        query = await self.aload(image)
        result = await self._extracted_search(query, k=k, refresh=refresh, options=options)
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
    ) -> SearchResult:
        """Synchronous twin of :meth:`asearch`."""
        return run_sync(self.asearch(image, k=k, refresh=refresh, show_result=show_result,
                                     extract=extract))

    async def _extracted_search(self, query: QueryImage, *, k: int, refresh: bool,
                                options: ExtractOptions | None) -> SearchResult:
        """The engine's (or the cache's) hits, cleaned by ``options``, trimmed to ``k``.

        Dedupe and domain filters drop hits, so the engine is asked for a few more than
        ``k``; if the clean-up still leaves fewer than ``k`` while the engine returned all
        it was asked for (so it may hold more), it is asked once more for twice as many.
        """
        if options is None:
            return (await self._cached_search(query, k=k, refresh=refresh)).top(k)
        fetch_k = min(2 * k, k + 10) if _drops_hits(options) else k
        for attempt in range(2):
            raw = await self._cached_search(query, k=fetch_k, refresh=refresh and attempt == 0)
            result = await apostprocess(raw, options,
                                        allow_private_urls=self.policy.allow_private_urls)
            if len(result.hits) >= k or len(raw.hits) < fetch_k or not _drops_hits(options):
                break
            fetch_k *= 2
        return result.top(k)

    async def _cached_search(self, query: QueryImage, *, k: int, refresh: bool) -> SearchResult:
        use_cache = self.cache is not None and self.engine.cacheable
        key = ""
        if use_cache:
            assert self.cache is not None
            key = self.cache.make_key(self.engine.name, self.engine.cache_key_options(),
                                      query.sha256)
            if not refresh:
                cached = await self.cache.aget(key, k=k)
                if cached is not None:
                    return finalize_result(cached, engine=self.engine.name,
                                           query_sha256=query.sha256, k=k,
                                           elapsed_s=cached.elapsed_s)
        result = await self.engine.asearch(query, k=k)
        if use_cache:
            assert self.cache is not None
            await self.cache.aput(key, result, k=k)
        return result

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
