"""``ReverseImageRetriever``: reverse image search as a LangChain retriever.

    >>> from langchain_rir import ReverseImageRetriever
    >>> retriever = ReverseImageRetriever(engine="google_lens", k=5, enrich_captions=3)
    >>> docs = retriever.invoke("https://example.org/photo.jpg")
    >>> docs = await retriever.ainvoke("data:image/jpeg;base64,...", k=3)

The query is an image: an http(s) URL, a ``data:`` URI or a local path; bytes, PIL
images and :class:`rir.QueryImage` objects too when called from Python. What is
accepted is the retriever's :class:`rir.InputPolicy` (default: local paths read, as
in any code you write; pass ``policy=InputPolicy.untrusted()`` when the queries come
from users or a model). Options can be given per call:
``invoke(url, k=3, refresh=True, deny_domains=["pinterest.com"], enrich_captions=2)``.
``regions=`` (``"auto"``, or a list of :class:`rir.Region` / pixel boxes) searches parts of
the image and returns the merged hits, each Document saying which region found it
(``invoke(url, regions="auto")``; :meth:`ReverseImageRetriever.asearch` returns the parts).
"""

from __future__ import annotations

import dataclasses
import threading
from dataclasses import dataclass
from typing import Any

from langchain_core.callbacks import (
    AsyncCallbackManagerForRetrieverRun,
    CallbackManagerForRetrieverRun,
)
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict, Field, InstanceOf, PrivateAttr, field_validator, model_validator

from langchain_rir.documents import hits_to_documents
from rir import _moved
from rir._runtime import run_sync
from rir.engines import Engine, check_k
from rir.errors import ConfigurationError
from rir.inputs.images import QueryImage, aload_image
from rir.inputs.policy import InputPolicy, input_policy
from rir.results.extract import ExtractOptions
from rir.results.models import SearchResult
from rir.results.region_parts import RegionsResult
from rir.search import ReverseImageSearch

__all__ = ["EXTRACT_OPTION_NAMES", "ImageRetrieval", "ReverseImageRetriever"]

EXTRACT_OPTION_NAMES = tuple(f.name for f in dataclasses.fields(ExtractOptions) if f.repr)
_CALL_OPTIONS = ("k", "refresh", "show_result", "regions", "include_whole",
                 *EXTRACT_OPTION_NAMES)
# Keywords that set the input policy's fields (the retriever's keyword -> the policy's).
_POLICY_KEYWORDS = {"allow_local_files": "allow_local_files",
                    "allow_private_urls": "allow_private_urls",
                    "max_image_bytes": "max_bytes", "max_image_pixels": "max_pixels",
                    "image_timeout_s": "timeout_s"}


@dataclass(frozen=True)
class ImageRetrieval:
    """One retrieval: the loaded query image, the cleaned search result and its Documents
    (the LlamaIndex retriever's ``ImageRetrieval`` has ``nodes`` instead).

    For a region search, ``regions`` holds the parts (:class:`rir.RegionsResult`) and
    ``result`` their merged hits as one result.
    """

    image: QueryImage
    result: SearchResult
    documents: list[Document]
    regions: RegionsResult | None = None


# RetrievalResult (0.1) is ImageRetrieval now, the name both adapters use.
__getattr__ = _moved.renamed_names(__name__, {
    "RetrievalResult": ("langchain_rir.retriever", "ImageRetrieval")})


class ReverseImageRetriever(BaseRetriever):
    """Retrieve the web pages (or indexed images) that show the query image.

    Args:
        engine: an engine name (``"auto"``, ``"google_lens"``, ``"serpapi"``,
            ``"cloud_vision"``, ``"local"``, ...) or an :class:`rir.engines.Engine` instance.
        engine_options: options for :func:`rir.engines.get_engine` (never shown in reprs).
        k: the number of Documents to return.
        extract: how hits are cleaned (dedupe, title clean-up, domain filters, best guess,
            caption enrichment). Its fields may also be passed directly:
            ``ReverseImageRetriever(enrich_captions=3, deny_domains=["pinterest.com"])``.
        policy: what is accepted as a query image and the limits
            (:class:`rir.InputPolicy`); default ``InputPolicy()``: local paths are read.
        allow_local_files / allow_private_urls: override the policy's settings (private
            URLs also govern the pages and thumbnails fetched for the results); so do
            ``max_image_bytes``, ``max_image_pixels`` and ``image_timeout_s``.
        cache: ``True`` (default cache file), ``False``, a path or a :class:`rir.ResultCache`.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    engine: Any = "auto"
    engine_options: dict[str, Any] = Field(default_factory=dict, repr=False)
    k: int = 10
    extract: ExtractOptions = Field(default_factory=ExtractOptions)
    policy: InstanceOf[InputPolicy] = Field(default_factory=InputPolicy)
    cache: Any = True

    _searcher: ReverseImageSearch | None = PrivateAttr(default=None)
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    @model_validator(mode="before")
    @classmethod
    def _gather_extract_options(cls, data: Any) -> Any:
        """Accept ExtractOptions fields (``enrich_captions=3``) as constructor shortcuts."""
        if not isinstance(data, dict):
            return data
        shortcuts = {name: data.pop(name) for name in list(data) if name in EXTRACT_OPTION_NAMES}
        if shortcuts:
            base = data.get("extract")
            if base is None or base is True:
                base = ExtractOptions()
            if not isinstance(base, ExtractOptions):
                raise ConfigurationError(
                    f"Pass extraction options either as extract=ExtractOptions(...) or as "
                    f"keywords ({', '.join(sorted(shortcuts))}), not both with extract={base!r}."
                )
            data["extract"] = _replace_options(base, shortcuts)
        elif data.get("extract") is True or data.get("extract") is None:
            data.pop("extract", None)
        elif data.get("extract") is False:
            data["extract"] = ExtractOptions(clean_titles=False, dedupe=False, best_guess=False)
        return data

    @model_validator(mode="before")
    @classmethod
    def _gather_policy_options(cls, data: Any) -> Any:
        """Build ``policy`` from the keywords that set its fields (``allow_local_files=...``)."""
        if not isinstance(data, dict):
            return data
        given = {_POLICY_KEYWORDS[name]: data.pop(name) for name in list(data)
                 if name in _POLICY_KEYWORDS}
        if given or data.get("policy") is not None:
            data["policy"] = input_policy(data.get("policy"), InputPolicy(), **given)
        else:
            data.pop("policy", None)
        return data

    @field_validator("k")
    @classmethod
    def _check_k(cls, value: int) -> int:
        return check_k(value)

    @field_validator("engine")
    @classmethod
    def _check_engine(cls, value: Any) -> Any:
        if not isinstance(value, (str, Engine)):
            raise ConfigurationError(
                f"engine must be an engine name or an rir Engine instance, got "
                f"{type(value).__name__}."
            )
        return value

    # -- the search ---------------------------------------------------------------------------

    @property
    def searcher(self) -> ReverseImageSearch:
        """The underlying :class:`rir.ReverseImageSearch` (built on first use)."""
        with self._lock:
            if self._searcher is None:
                self._searcher = ReverseImageSearch(
                    self.engine, cache=self.cache, extract=self.extract, policy=self.policy,
                    **self.engine_options,
                )
            return self._searcher

    async def aload(self, image: Any) -> QueryImage:
        """Load a query image as this retriever's policy allows."""
        return await aload_image(image, policy=self.policy)

    async def asearch(self, image: Any, **options: Any) -> ImageRetrieval:
        """Search ``image``; return the query image, the cleaned result and the Documents.

        ``options``: ``k``, ``refresh``, ``show_result`` and any :class:`ExtractOptions`
        field, overriding the retriever's settings for this call; ``regions`` (and
        ``include_whole``) to search parts of the image
        (:meth:`rir.ReverseImageSearch.asearch_regions`): the Documents are then the merged
        hits, and ``ImageRetrieval.regions`` holds the parts.
        """
        unknown = sorted(set(options) - set(_CALL_OPTIONS))
        if unknown:
            raise ConfigurationError(
                f"Unknown retriever option(s) {', '.join(unknown)}; per-call options are "
                f"{', '.join(_CALL_OPTIONS)}."
            )
        k = check_k(options.pop("k", self.k))
        refresh = bool(options.pop("refresh", False))
        show_result = bool(options.pop("show_result", False))
        regions = options.pop("regions", None)
        include_whole = bool(options.pop("include_whole", True))
        extract = _replace_options(self.extract, options) if options else self.extract
        query = await self.aload(image)
        found = None
        if regions is None:
            result = await self.searcher.asearch(query, k=k, refresh=refresh,
                                                 show_result=show_result, extract=extract)
        else:
            found = await self.searcher.asearch_regions(
                query, regions, k=k, include_whole=include_whole, refresh=refresh,
                show_result=show_result, extract=extract)
            result = found.as_search_result()
        return ImageRetrieval(query, result, hits_to_documents(result,
                                                               query_sha256=query.sha256),
                              regions=found)

    def search(self, image: Any, **options: Any) -> ImageRetrieval:
        """Synchronous twin of :meth:`asearch`."""
        return run_sync(self.asearch(image, **options))

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun, **kwargs: Any
    ) -> list[Document]:
        return self.search(query, **kwargs).documents

    async def _aget_relevant_documents(
        self, query: str, *, run_manager: AsyncCallbackManagerForRetrieverRun, **kwargs: Any
    ) -> list[Document]:
        return (await self.asearch(query, **kwargs)).documents

    # -- lifecycle ----------------------------------------------------------------------------

    async def aclose(self) -> None:
        """Release the engine's browser or HTTP clients."""
        if self._searcher is not None:
            await self._searcher.aclose()

    def close(self) -> None:
        if self._searcher is not None:
            self._searcher.close()


def _replace_options(base: ExtractOptions, changes: dict[str, Any]) -> ExtractOptions:
    try:
        return dataclasses.replace(base, **changes)
    except (TypeError, ValueError) as exc:
        raise ConfigurationError(f"Bad extraction option: {exc}.") from None
