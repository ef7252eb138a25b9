"""The storage contract behind :class:`LocalIndex`: what any index backend must do.

:class:`~rir.engines.local.store.IndexStore` (SQLite, a file or memory) is the
embedded implementation. Another backend (e.g. a vector database for an archive
that outgrows one machine) implements the same methods and must pass the same
contract suite, ``tests/core/test_local_backend_contract.py``.

Images are addressed by an integer key the backend assigns (``rowid``), pages
by their string ids. Feature extraction, geometric verification and scoring
stay in the engine: a backend stores, finds candidates and returns records.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np

from rir.engines.local.candidates import Candidate, QueryWords
from rir.engines.local.records import ImageData, ImageInfo, IndexedPage, PageData

__all__ = ["IndexBackend"]


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
