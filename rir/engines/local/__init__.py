"""The embedded local engine: a reverse image index of your own images.

``LocalIndex(path)`` opens (or creates) an index to build; :func:`open_index` is what
the engine registry builds for ``get_engine("local", ...)`` and every adapter that takes
``engine="local"``: the same class, but a missing index file is an error naming
``rir index add`` rather than a silent, empty new index.

Public names: ``__all__`` (imported on first use: finding the default index path loads
neither numpy nor OpenCV).
"""

from typing import TYPE_CHECKING

from rir import _moved

if TYPE_CHECKING:
    from rir.engines.local.index import AddReport, IndexedPage, LocalIndex, open_index
    from rir.engines.local.location import MEMORY, default_index_path, resolve_index_path

__all__ = ["MEMORY", "AddReport", "IndexedPage", "LocalIndex", "default_index_path",
           "open_index", "resolve_index_path"]

__getattr__, __dir__ = _moved.lazy_exports(__name__, {
    "rir.engines.local.index": ["AddReport", "IndexedPage", "LocalIndex", "open_index"],
    "rir.engines.local.location": ["MEMORY", "default_index_path", "resolve_index_path"],
})
