"""Results: what a search returns, cleaned, enriched, cached and shown.

* :mod:`rir.results.models`: ``SearchHit`` and ``SearchResult``, the normalised result model;
* :mod:`rir.results.extract`: clean-up (titles, dedupe, domain filters) and the best guess
  (:mod:`rir.results.best_guess`);
* :mod:`rir.results.enrich`: captions fetched from the top result pages;
* :mod:`rir.results.cache`: the persistent result cache, and :mod:`rir.results.cached_search`:
  an engine behind it (whole image or a box; a region request's paid-call count);
* :mod:`rir.results.region_parts`: ``RegionsResult``, the parts of a region search and
  their merged ranking;
* :mod:`rir.results.debug_view`: the query beside its top hits, as a picture.

Public names: ``__all__`` (imported on first use).
"""

from typing import TYPE_CHECKING

from rir import _moved

if TYPE_CHECKING:
    from rir.results.cache import ResultCache
    from rir.results.debug_view import show_result
    from rir.results.enrich import enrich_captions
    from rir.results.extract import ExtractOptions, apostprocess, postprocess
    from rir.results.models import EngineFailure, Entity, MatchType, SearchHit, SearchResult
    from rir.results.region_parts import RegionPart, RegionsResult

__all__ = [
    "EngineFailure",
    "Entity",
    "ExtractOptions",
    "MatchType",
    "RegionPart",
    "RegionsResult",
    "ResultCache",
    "SearchHit",
    "SearchResult",
    "apostprocess",
    "enrich_captions",
    "postprocess",
    "show_result",
]

__getattr__, __dir__ = _moved.lazy_exports(__name__, {
    "rir.results.cache": ["ResultCache"],
    "rir.results.debug_view": ["show_result"],
    "rir.results.enrich": ["enrich_captions"],
    "rir.results.extract": ["ExtractOptions", "apostprocess", "postprocess"],
    "rir.results.models": ["EngineFailure", "Entity", "MatchType", "SearchHit", "SearchResult"],
    "rir.results.region_parts": ["RegionPart", "RegionsResult"],
})
