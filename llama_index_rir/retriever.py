"""``ReverseImageRetriever``: reverse image search as a LlamaIndex retriever.

    >>> from llama_index.core.schema import QueryBundle
    >>> from llama_index_rir import ReverseImageRetriever
    >>> retriever = ReverseImageRetriever(engine="google_lens", k=5)
    >>> nodes = retriever.retrieve(QueryBundle("who is this?", image_path="photo.jpg"))
    >>> nodes = await retriever.aretrieve("https://example.org/photo.jpg")

The image comes from ``QueryBundle.image_path`` (an http(s) URL, a ``data:`` URI or
a local path), or from the query string when that is itself a URL or data URI.
Each hit becomes a ``NodeWithScore`` (see :mod:`llama_index_rir.nodes`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from llama_index.core.base.base_retriever import BaseRetriever
from llama_index.core.callbacks import CallbackManager
from llama_index.core.schema import NodeWithScore, QueryBundle

from llama_index_rir._inputs import build_searcher, image_source
from llama_index_rir.nodes import hits_to_nodes
from rir._runtime import run_sync
from rir.engines import Engine, check_k
from rir.inputs.images import DEFAULT_MAX_BYTES, ImageInput, QueryImage, aload_image
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
    """One retrieval: the loaded query image, the search result and its nodes.

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
        allow_private_urls: let image URLs point at private or loopback addresses.
        allow_local_files: accept local paths in ``QueryBundle.image_path`` (the query
            string is never read as a path).
        image_nodes: return ``ImageNode``s carrying each hit's thumbnail. This downloads
            the thumbnails (through the same SSRF guard as every other fetch); hits
            whose thumbnail cannot be fetched stay ``TextNode``s.
        max_image_bytes: the size limit for the query image.
        **engine_options: passed to :func:`rir.engines.get_engine` with the engine name.
    """

    def __init__(
        self,
        engine: str | Engine = "auto",
        *,
        k: int = 10,
        extract: ExtractOptions | bool | None = None,
        cache: CacheOption = True,
        allow_private_urls: bool = False,
        allow_local_files: bool = True,
        image_nodes: bool = False,
        max_image_bytes: int = DEFAULT_MAX_BYTES,
        callback_manager: CallbackManager | None = None,
        verbose: bool = False,
        **engine_options: Any,
    ) -> None:
        self.k = check_k(k)
        self.searcher: ReverseImageSearch = build_searcher(
            engine, cache=cache, extract=extract, allow_private_urls=allow_private_urls,
            engine_options=engine_options)
        self.allow_private_urls = allow_private_urls
        self.allow_local_files = allow_local_files
        self.image_nodes = image_nodes
        self.max_image_bytes = max_image_bytes
        super().__init__(callback_manager=callback_manager, verbose=verbose)

    @property
    def engine(self) -> Engine:
        return self.searcher.engine

    # -- the one implementation ---------------------------------------------------------------

    async def aload_image(self, image: ImageInput | Any) -> QueryImage:
        """Load any image input with this retriever's URL and file rules."""
        return await aload_image(image, max_bytes=self.max_image_bytes,
                                 allow_private_urls=self.allow_private_urls,
                                 allow_local_files=self.allow_local_files)

    async def aload_query_image(self, query: QueryBundle | str) -> QueryImage:
        """The query's image: ``image_path``, else a URL or data URI query string."""
        bundle = QueryBundle(query) if isinstance(query, str) else query
        return await self.aload_image(image_source(bundle))

    async def asearch_image(
        self, image: ImageInput | Any, *, k: int | None = None, regions: Any = None,
        include_whole: bool = True,
    ) -> ImageRetrieval:
        """Search any image input (URL, data URI, path, bytes, PIL image, QueryImage).

        ``regions``: ``"auto"`` or regions to search (with the whole image unless
        ``include_whole=False``): the nodes are then the merged hits, each saying its
        region(s), and ``ImageRetrieval.regions`` holds the parts.
        """
        query = await self.aload_image(image)
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
            thumbnails = await afetch_thumbnails(result.hits, max_n=len(result.hits),
                                                 allow_private_urls=self.allow_private_urls)
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
