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
"""
