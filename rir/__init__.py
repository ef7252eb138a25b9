"""reverse-image-rag: reverse image search as retrieval for multimodal LLMs.

    >>> import rir
    >>> searcher = rir.ReverseImageSearch(engine="local", path="my_photos.rir")
    >>> result = searcher.search("query.jpg", k=5)
    >>> result.best_guess, [hit.title for hit in result.hits]
    >>> parts = searcher.search_regions("collage.jpg", regions="auto", k=5)
    >>> [(part.label, part.result.best_guess) for part in parts.parts]

The core has no LangChain or LlamaIndex imports; the adapters live in
``langchain_rir`` and ``llama_index_rir``. ``__all__`` is the public API (a test pins
it); the public subpackages (``rir.inputs``, ``rir.engines``, ``rir.results``,
``rir.prompting``, ``rir.eval``, ``rir.serve``, ...) each have their own. Names are
imported on first use, so ``import rir`` loads neither numpy, Pillow, httpx nor pydantic.
"""

from typing import TYPE_CHECKING

from rir import _moved, errors
from rir.errors import (
    ConfigurationError,
    EngineBlockedError,
    EngineError,
    EngineRateLimitedError,
    EngineTimeoutError,
    ImageFetchError,
    InvalidImageError,
    InvalidRegionError,
    RIRError,
    UnsafeURLError,
)

if TYPE_CHECKING:
    from rir.engines import Engine, available_engines, get_engine, register_engine
    from rir.inputs.images import QueryImage, aload_image, load_image
    from rir.inputs.policy import InputPolicy
    from rir.inputs.region import Region
    from rir.results.cache import ResultCache
    from rir.results.extract import ExtractOptions
    from rir.results.models import EngineFailure, Entity, SearchHit, SearchResult
    from rir.results.region_parts import RegionPart, RegionsResult
    from rir.search import ReverseImageSearch, SearchOutcome

__version__ = "0.1.0"

_moved.install()  # old module paths of 0.1 keep working, with a warning, for one release

__getattr__, __dir__ = _moved.lazy_exports(__name__, {
    "rir.engines": ["Engine", "available_engines", "get_engine", "register_engine"],
    "rir.inputs.images": ["QueryImage", "aload_image", "load_image"],
    "rir.inputs.policy": ["InputPolicy"],
    "rir.inputs.region": ["Region"],
    "rir.results.cache": ["ResultCache"],
    "rir.results.extract": ["ExtractOptions"],
    "rir.results.models": ["EngineFailure", "Entity", "SearchHit", "SearchResult"],
    "rir.results.region_parts": ["RegionPart", "RegionsResult"],
    "rir.search": ["ReverseImageSearch", "SearchOutcome"],
})

__all__ = [
    "ConfigurationError",
    "Engine",
    "EngineBlockedError",
    "EngineError",
    "EngineFailure",
    "EngineRateLimitedError",
    "EngineTimeoutError",
    "Entity",
    "ExtractOptions",
    "ImageFetchError",
    "InputPolicy",
    "InvalidImageError",
    "InvalidRegionError",
    "QueryImage",
    "RIRError",
    "Region",
    "RegionPart",
    "RegionsResult",
    "ResultCache",
    "ReverseImageSearch",
    "SearchHit",
    "SearchOutcome",
    "SearchResult",
    "UnsafeURLError",
    "__version__",
    "aload_image",
    "available_engines",
    "errors",
    "get_engine",
    "load_image",
    "register_engine",
]
