"""Index storage: the contract any LocalIndex backend implements, and choosing one.

:class:`~rir.engines.local.store.IndexStore` (SQLite, a file or memory) is the
embedded implementation; :class:`~rir.engines.local.qdrant.backend.QdrantBackend`
keeps an archive that outgrows one machine in Qdrant. Another backend implements
the same methods of :class:`IndexBackend` and must pass the same contract suite,
``tests/engines/local/test_local_backend_contract.py``. :func:`open_backend` picks
one for ``LocalIndex(backend=..., url=..., ...)``.

Images are addressed by an integer key the backend assigns (``rowid``), pages
by their string ids. Feature extraction, geometric verification and scoring
stay in the engine: a backend stores, finds candidates and returns records.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from rir.engines.local.candidates import Candidate, QueryWords
from rir.engines.local.records import ImageData, ImageInfo, IndexedPage, PageData
from rir.errors import ConfigurationError

__all__ = ["BACKEND_NAMES", "IndexBackend", "open_backend"]


@runtime_checkable
class IndexBackend(Protocol):
    def write(self, items: Sequence[tuple[ImageData, PageData]]) -> list[str]:
        """Store images (once per sha256) and upsert their pages, atomically; page ids."""

    def remove_page(self, page_id: str) -> bool:
        """Delete a page (and its image when it was the image's last page)."""

    def remove_image(self, image_id: str) -> int:
        """Delete an image and its pages; how many pages went."""

    def pages(self, image_id: str | None = None) -> list[IndexedPage]:
        """Pages of one image, or all, in the order added."""

    def pages_of(self, rowids: Iterable[int]) -> dict[int, list[IndexedPage]]: ...

    def image_info(self, rowids: Iterable[int]) -> dict[int, ImageInfo]: ...

    def candidates(self, query: QueryWords, *, limit: int,
                   sha256: str | None = None) -> list[Candidate]:
        """Images worth verifying: same-bytes images first, then by votes, then by appearance."""

    def load_keypoints(self, rowids: Sequence[int]) -> dict[int, tuple[np.ndarray, np.ndarray]]:
        """(points float32 [n, 2], ORB descriptors uint8 [n, 32]) per image, in one round trip."""

    def embeddings(self, after_rowid: int = 0) -> tuple[np.ndarray, list[np.ndarray]]: ...

    def versions(self) -> tuple[int, int]:
        """(writes, removals) counters, so caches notice other processes' changes."""

    def count_pages(self) -> int: ...

    def count_images(self) -> int: ...

    def stats(self) -> dict[str, Any]:
        """At least images, pages, bytes, path, format."""

    def close(self) -> None: ...


BACKEND_NAMES = ("sqlite", "qdrant")
_QDRANT_OPTIONS = ("url", "api_key", "collection", "shard_number", "replication_factor")


def open_backend(backend: IndexBackend | str | None, path: Path | None, *, create: bool,
                 **options: Any) -> IndexBackend:
    """The storage for ``LocalIndex(backend=..., url=..., ...)``; options unset are None."""
    given = sorted(k for k in _QDRANT_OPTIONS if options.get(k) is not None)
    if backend is None or backend == "sqlite":
        if given:
            raise ConfigurationError(
                f"{', '.join(given)} {'is' if len(given) == 1 else 'are'} for "
                "backend='qdrant'; pass backend='qdrant' too, or leave "
                f"{'it' if len(given) == 1 else 'them'} out for the SQLite file.")
        from rir.engines.local.store import IndexStore

        return IndexStore(path, create=create)
    if backend == "qdrant":
        from rir.engines.local.qdrant.backend import QdrantBackend

        collection = options.get("collection") or "rir-index"
        return QdrantBackend(options.get("url"), api_key=options.get("api_key"),
                             collection=collection, shard_number=options.get("shard_number"),
                             replication_factor=options.get("replication_factor"),
                             create=create)
    if isinstance(backend, str):
        raise ConfigurationError(f"Unknown backend {backend!r}; use one of "
                                 f"{', '.join(BACKEND_NAMES)} or an IndexBackend object.")
    if not isinstance(backend, IndexBackend):
        raise ConfigurationError(
            f"backend must implement rir.engines.local.backends.IndexBackend, got "
            f"{type(backend).__name__}.")
    if given:
        raise ConfigurationError(f"{', '.join(given)}: set these on the backend object you pass.")
    return backend
