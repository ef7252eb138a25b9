"""The embedded local engine: a reverse image index of your own images.

``LocalIndex(path)`` opens (or creates) an index to build; :func:`open_index` is what
the engine registry builds for ``get_engine("local", ...)`` and every adapter that takes
``engine="local"``: the same class, but a missing index file is an error naming
``rir index add`` rather than a silent, empty new index.
"""

import functools

from rir.engines.local.index import AddReport, IndexedPage, LocalIndex
from rir.engines.local.location import MEMORY, default_index_path, resolve_index_path

__all__ = ["MEMORY", "AddReport", "IndexedPage", "LocalIndex", "default_index_path",
           "open_index", "resolve_index_path"]

# A partial (not a wrapper function) so the registry's option check sees LocalIndex's
# real signature and rejects unknown options by name.
open_index = functools.partial(LocalIndex, create=False)
