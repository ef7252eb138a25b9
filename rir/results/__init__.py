"""Results: what a search returns, cleaned, enriched, cached and shown.

* :mod:`rir.results.models`: ``SearchHit`` and ``SearchResult``, the normalised result model;
* :mod:`rir.results.extract`: clean-up (titles, dedupe, domain filters) and the best guess
  (:mod:`rir.results.best_guess`);
* :mod:`rir.results.enrich`: captions fetched from the top result pages;
* :mod:`rir.results.cache`: the persistent result cache;
* :mod:`rir.results.debug_view`: the query beside its top hits, as a picture.
"""
