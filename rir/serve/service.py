"""What both servers call: loading a client's image safely, then the library's one search path.

:class:`SearchService` holds the server's :class:`~rir.inputs.policy.InputPolicy` (built once
from the config: local files only under ``--allow-dir`` and only over stdio, private URLs
refused), one :class:`~rir.ReverseImageSearch` per engine name (built on first use), a
concurrency limiter per engine and the per-request deadlines. REST routes and MCP tools are
thin translations of its methods; there is no engine logic here, only the policy of who may
ask for what.
"""

from __future__ import annotations

import asyncio
import importlib.util
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from rir.engines import available_engines, check_k
from rir.engines.http.secrets import configured_env
from rir.errors import ConfigurationError, EngineTimeoutError, InvalidImageError
from rir.inputs.images import QueryImage, aload_image
from rir.inputs.region import tool_regions
from rir.results.models import SearchResult
from rir.results.region_parts import RegionsResult
from rir.search import ReverseImageSearch
from rir.serve.config import ServeConfig
from rir.serve.limits import ConcurrencyLimiter

__all__ = ["MAX_K", "MAX_QUESTION_CHARS", "Asker", "Progress", "SearchService", "Searched"]

MAX_K = 50
MAX_QUESTION_CHARS = 2000
# Searches at once per engine: a local index is CPU-bound numpy (fast, releases the GIL),
# a browser engine drives a Chromium page per search, API engines wait on the network.
_SLOTS = {"local": 8, "google_lens": 2}
_DEFAULT_SLOTS = 4
# Which environment variables configure an engine (names only: values are never shown).
_ENGINE_KEYS = {"serpapi": ("SERPAPI_API_KEY",),
                "cloud_vision": ("GOOGLE_CLOUD_VISION_API_KEY", "GOOGLE_APPLICATION_CREDENTIALS")}
# Engines that need options a client cannot send (lists of other engines).
_NEEDS_SERVER_OPTIONS = ("fallback", "fusion")

Progress = Callable[[float, str], Awaitable[None]]


class Asker(Protocol):
    """Answers a question about an image from a search result (a chat model behind it)."""

    async def aask(self, image: QueryImage, question: str, result: SearchResult) -> str: ...


@dataclass(frozen=True)
class Searched:
    """The loaded image and its result; for a region search, ``regions`` holds the parts and
    ``result`` their merged hits."""

    query: QueryImage
    result: SearchResult
    regions: RegionsResult | None = None


async def _no_progress(fraction: float, message: str) -> None:
    return None


class SearchService:
    """The server's single way to search: per-engine searchers, limits and deadlines."""

    def __init__(self, config: ServeConfig, *, asker: Asker | None = None) -> None:
        self.config = config
        self.asker = asker
        self.policy = config.input_policy
        self._searchers: dict[str, ReverseImageSearch] = {}
        self._limiters: dict[str, ConcurrencyLimiter] = {}
        self._lock = asyncio.Lock()

    # -- images ---------------------------------------------------------------------------------

    async def load(self, image: str | bytes, *, local_files: bool = False) -> QueryImage:
        """The client's image, validated by the server's policy; a path only when
        ``local_files`` (the stdio transport: a client on this machine) and under
        ``--allow-dir``."""
        if isinstance(image, str) and not image.strip():
            raise InvalidImageError("The image input is an empty string; send an http(s) URL "
                                    "or a data: URI.")
        policy = self.policy if local_files else self.policy.updated({"allow_local_files": False})
        return await aload_image(image, policy=policy)

    # -- searching ------------------------------------------------------------------------------

    def _engine_key(self, engine: str | None) -> str:
        """The registry name a request's engine (or the server's default) stands for."""
        return (engine or self.config.default_engine).strip().lower()

    async def searcher(self, engine: str | None = None) -> ReverseImageSearch:
        name = self._engine_key(engine)
        if name in _NEEDS_SERVER_OPTIONS:
            raise ConfigurationError(
                f"The '{name}' engine combines engines chosen by the server's configuration; "
                "a request cannot build one. Name a single engine (GET /v1/engines)."
            )
        async with self._lock:
            searcher = self._searchers.get(name)
            if searcher is None:
                options: dict[str, Any] = {}
                if name == "local" and self.config.index is not None:
                    options["path"] = str(self.config.index)
                # Building an engine can read an index file: keep the event loop free.
                searcher = await asyncio.to_thread(
                    ReverseImageSearch, name, cache=self.config.cache,
                    policy=self.policy.updated({"allow_local_files": False}), **options)
                self._searchers[name] = searcher
                slots = self.config.concurrency or _SLOTS.get(searcher.engine.name,
                                                              _DEFAULT_SLOTS)
                self._limiters[name] = ConcurrencyLimiter(name, slots, self.config.max_queue)
            return searcher

    def limiter(self, engine: str | None = None) -> ConcurrencyLimiter | None:
        return self._limiters.get(self._engine_key(engine))

    async def search(self, image: str | bytes, *, k: int = 5, engine: str | None = None,
                     local_files: bool = False, progress: Progress = _no_progress,
                     region: Any = None) -> Searched:
        """Load ``image``, wait for a slot of the engine, search within the deadline.

        ``region``: boxes on the 0-1000 grid of the image, or ``"auto"``
        (:func:`rir.inputs.region.tool_regions`); one request holds one slot however many
        regions it searches (the engine's own limits apply inside), and the searcher's
        paid-call cap applies.
        """
        _check_k(k)
        regions = tool_regions(region)
        searcher = await self.searcher(engine)
        limiter = self._limiters[self._engine_key(engine)]
        await progress(0.1, "loading the image")
        query = await self.load(image, local_files=local_files)
        async with limiter.slot():
            await progress(0.3, f"searching with {searcher.engine.name}")
            found = None
            try:
                if regions is None:
                    result = await asyncio.wait_for(searcher.asearch(query, k=k),
                                                    self.config.search_timeout_s)
                else:  # boxes are searched on their own; "auto" with the whole image
                    found = await asyncio.wait_for(
                        searcher.asearch_regions(query, regions, k=k,
                                                 include_whole=regions == "auto"),
                        self.config.search_timeout_s)
                    result = found.as_search_result()
            except asyncio.TimeoutError:
                raise EngineTimeoutError(
                    f"The '{searcher.engine.name}' search did not finish within the server's "
                    f"{self.config.search_timeout_s:g} s deadline.", engine=searcher.engine.name
                ) from None
        await progress(1.0, f"found {len(result.hits)} matches")
        return Searched(query, result, found)

    async def add_to_index(self, image: str | bytes, *, title: str, url: str | None = None,
                           caption: str | None = None, local_files: bool = False) -> str:
        if not self.config.allow_write or self.config.index is None:
            raise ConfigurationError("This server's index is read-only; start it with "
                                     "--index PATH --allow-write to add images.")
        if not title.strip():
            raise ConfigurationError("title must not be empty: it is what a search shows.")
        query = await self.load(image, local_files=local_files)
        index = (await self.searcher("local")).engine
        return await index.aadd(query, title=title, url=url, caption=caption)  # type: ignore[attr-defined]

    async def ask(self, image: str | bytes, question: str, *, k: int = 5,
                  engine: str | None = None, local_files: bool = False,
                  progress: Progress = _no_progress,
                  region: Any = None) -> tuple[str, SearchResult]:
        if self.asker is None:
            raise ConfigurationError("No chat model is configured on this server; start it "
                                     "with --model provider:name to answer questions.")
        question = question.strip()
        if not question or len(question) > MAX_QUESTION_CHARS:
            raise ConfigurationError(
                f"question must be 1 to {MAX_QUESTION_CHARS} characters, got {len(question)}.")
        searched = await self.search(image, k=k, engine=engine, local_files=local_files,
                                     progress=progress, region=region)
        try:
            answer = await asyncio.wait_for(
                self.asker.aask(searched.query, question, searched.result),
                self.config.search_timeout_s)
        except asyncio.TimeoutError:
            raise EngineTimeoutError(
                f"The chat model did not answer within {self.config.search_timeout_s:g} s."
            ) from None
        return answer, searched.result

    # -- what is offered --------------------------------------------------------------------------

    def engines(self) -> list[dict[str, Any]]:
        """Each engine name, whether this server can use it, and what configures it (no values)."""
        default = self.config.default_engine
        listed = []
        for name in available_engines():
            keys = _ENGINE_KEYS.get(name, ())
            configured, note = _configured(name, self.config, keys)
            listed.append({"name": name, "default": name == default, "configured": configured,
                           "configured_by": list(keys), "note": note})
        return listed

    async def aclose(self) -> None:
        searchers, self._searchers = list(self._searchers.values()), {}
        for searcher in searchers:
            await searcher.aclose()


def _configured(name: str, config: ServeConfig, keys: tuple[str, ...]) -> tuple[bool, str]:
    if name == "local":
        if config.index is not None:
            return True, f"the index given with --index ({config.index.name})"
        return False, "start the server with --index PATH"
    if name in _NEEDS_SERVER_OPTIONS:
        return False, "combines other engines; not available per request"
    if keys:
        found = any(configured_env(key) for key in keys)  # placeholders do not count
        return found, ("credentials found in the server's environment" if found
                       else f"set {' or '.join(keys)} where the server runs")
    if name == "google_lens":
        found = importlib.util.find_spec("playwright") is not None
        return found, "drives a local Chromium (Playwright)" if found else "needs playwright"
    if name.startswith("picimagesearch"):
        found = importlib.util.find_spec("PicImageSearch") is not None
        return found, "free engines through PicImageSearch" + ("" if found else " (not installed)")
    return True, "picks the best configured web engine"


def _check_k(k: Any) -> None:
    check_k(k)
    if k > MAX_K:
        raise ConfigurationError(f"k must be at most {MAX_K} on this server, got {k}.")
