"""``ReverseImageRetriever``: reverse image search as a LlamaIndex retriever.

    >>> from llama_index.core.schema import QueryBundle
    >>> from llama_index_rir import ReverseImageRetriever
    >>> retriever = ReverseImageRetriever(engine="google_lens", k=5)
    >>> nodes = retriever.retrieve(QueryBundle("who is this?", image_path="photo.jpg"))
    >>> nodes = await retriever.aretrieve("https://example.org/photo.jpg")

The image comes from ``QueryBundle.image_path`` (an http(s) URL, a ``data:`` URI or
a local path), or from the query string when that is itself a URL or data URI (the
query string is never read as a path). What is accepted is the retriever's
:class:`rir.InputPolicy` (default: local paths read, as in any code you write).
Each hit becomes a ``NodeWithScore`` (see :mod:`llama_index_rir.nodes`).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from llama_index.core.base.base_retriever import BaseRetriever
from llama_index.core.callbacks import CallbackManager
from llama_index.core.schema import NodeWithScore, QueryBundle

from llama_index_rir._inputs import build_searcher, image_source
from llama_index_rir.nodes import hits_to_nodes
from rir._runtime import run_sync
from rir.engines import Engine, check_k
from rir.inputs.images import ImageInput, QueryImage, aload_image
from rir.inputs.policy import InputPolicy, input_policy
from rir.prompting.thumbnail_fetch import afetch_thumbnails
from rir.results.extract import ExtractOptions
from rir.results.models import SearchResult
from rir.results.region_parts import RegionsResult
from rir.search import ReverseImageSearch

if TYPE_CHECKING:
    from llama_index_rir._inputs import CacheOption

__all__ = ["ImageRetrieval", "ReverseImageRetriever"]


@dataclass(frozen=True)
class ImageRetrieval:
    """One retrieval: the loaded query image, the search result and its nodes (the
    LangChain retriever's ``ImageRetrieval`` has ``documents`` instead).

    For a region search, ``regions`` holds the parts (:class:`rir.RegionsResult`) and
    ``result`` their merged hits as one result.
    """

    image: QueryImage
    result: SearchResult
    nodes: list[NodeWithScore]
    regions: RegionsResult | None = None


class ReverseImageRetriever(BaseRetriever):
    """Retrieve the web pages (or indexed images) that show the query image.

    Args:
        engine: an engine name (``"auto"``, ``"local"``, ``"google_lens"``, ``"serpapi"``,
            ...) or an :class:`~rir.engines.Engine` instance (share one between
            components to share its browser or HTTP client).
        k: how many hits to retrieve.
        extract: hit clean-up (dedupe, title cleaning, domain filters, best guess,
            caption enrichment) as :class:`~rir.results.extract.ExtractOptions`; ``None`` for the
            defaults, ``False`` for raw hits. The same options as the LangChain side.
        cache: the result cache: ``True`` (default file), ``False``, a path or a
            :class:`~rir.results.cache.ResultCache`.
        policy: what is accepted as the query image and the limits
            (:class:`rir.InputPolicy`); default ``InputPolicy()``: local paths in
            ``QueryBundle.image_path`` are read.
        allow_private_urls / allow_local_files / max_image_bytes: override the policy's
            settings (``max_image_bytes`` is its ``max_bytes``; private URLs also govern
            the thumbnails of ``image_nodes``).
        image_nodes: return ``ImageNode``s carrying each hit's thumbnail. This downloads
            the thumbnails (through the same SSRF guard as every other fetch); hits
            whose thumbnail cannot be fetched stay ``TextNode``s.
        **engine_options: passed to :func:`rir.engines.get_engine` with the engine name.
    """

    def __init__(
        self,
        engine: str | Engine = "auto",
        *,
        k: int = 10,
        extract: ExtractOptions | bool | None = None,
        cache: CacheOption = True,
        policy: InputPolicy | None = None,
        allow_private_urls: bool | None = None,
        allow_local_files: bool | None = None,
        image_nodes: bool = False,
        max_image_bytes: int | None = None,
        callback_manager: CallbackManager | None = None,
        verbose: bool = False,
        **engine_options: Any,
    ) -> None:
        self.k = check_k(k)
        self.policy: InputPolicy = input_policy(
            policy, InputPolicy(), allow_private_urls=allow_private_urls,
            allow_local_files=allow_local_files, max_bytes=max_image_bytes)
        self.searcher: ReverseImageSearch = build_searcher(
            engine, cache=cache, extract=extract, policy=self.policy,
            engine_options=engine_options)
        self.image_nodes = image_nodes
        super().__init__(callback_manager=callback_manager, verbose=verbose)

    @property
    def engine(self) -> Engine:
        return self.searcher.engine

    # -- the one implementation ---------------------------------------------------------------

    async def aload(self, image: ImageInput | Any) -> QueryImage:
        """Load any image input as this retriever's policy allows."""
        return await aload_image(image, policy=self.policy)

    async def aload_image(self, image: ImageInput | Any) -> QueryImage:
        """Deprecated name of :meth:`aload` (the LangChain retriever's name too)."""
        warnings.warn("llama_index_rir.ReverseImageRetriever.aload_image is now aload (the "
                      "name the LangChain retriever uses); the old name goes in the next "
                      "release.", DeprecationWarning, stacklevel=2)
        return await self.aload(image)

    async def aload_query_image(self, query: QueryBundle | str) -> QueryImage:
        """The query's image: ``image_path``, else a URL or data URI query string."""
        bundle = QueryBundle(query) if isinstance(query, str) else query
        return await self.aload(image_source(bundle))

    async def asearch_image(
        self, image: ImageInput | Any, *, k: int | None = None, regions: Any = None,
        include_whole: bool = True,
    ) -> ImageRetrieval:
        """Search any image input (URL, data URI, path, bytes, PIL image, QueryImage).

        ``regions``: ``"auto"`` or regions to search (with the whole image unless
        ``include_whole=False``): the nodes are then the merged hits, each saying its
        region(s), and ``ImageRetrieval.regions`` holds the parts.
        """
        query = await self.aload(image)
        k = check_k(self.k if k is None else k)
        found = None
        if regions is None:
            result = await self.searcher.asearch(query, k=k)
        else:
            found = await self.searcher.asearch_regions(query, regions, k=k,
                                                        include_whole=include_whole)
            result = found.as_search_result()
        thumbnails = None
        if self.image_nodes:
            thumbnails = await afetch_thumbnails(
                result.hits, max_n=len(result.hits),
                allow_private_urls=self.policy.allow_private_urls)
        nodes = hits_to_nodes(result, query_sha256=query.sha256, thumbnails=thumbnails)
        return ImageRetrieval(image=query, result=result, nodes=nodes, regions=found)

    async def asearch(self, query: QueryBundle | str, *, k: int | None = None) -> ImageRetrieval:
        """Like :meth:`aretrieve`, but also returns the image and the full search result."""
        image = await self.aload_query_image(query)
        return await self.asearch_image(image, k=k)

    def search(self, query: QueryBundle | str, *, k: int | None = None) -> ImageRetrieval:
        """Synchronous twin of :meth:`asearch` (works in scripts, threads and Jupyter)."""
        return run_sync(self.asearch(query, k=k))

    # -- BaseRetriever ------------------------------------------------------------------------

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        return self.search(query_bundle).nodes

    async def _aretrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        return (await self.asearch(query_bundle)).nodes

    # -- lifecycle ----------------------------------------------------------------------------

    async def aclose(self) -> None:
        await self.searcher.aclose()

    def close(self) -> None:
        self.searcher.close()

    def __repr__(self) -> str:
        return (f"ReverseImageRetriever(engine={self.engine!r}, k={self.k}, "
                f"image_nodes={self.image_nodes})")
