"""Copying an index between backends (``rir index copy``): every image once, every page.

Pages are copied in the order they were added (so ``pages()`` lists them in the
same order at the destination), in batches: each batch's images are read from
the source whole (features, thumbnail, embedding) and written with their pages
in one destination write. Page and image ids are derived from the image bytes
and the page's url or title, so they are the same at the destination.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from rir.engines.local.backends import IndexBackend
from rir.engines.local.records import ImageData, PageData
from rir.engines.local.stored_features import stored_features
from rir.errors import ConfigurationError, EngineError

__all__ = ["CopyReport", "copy_index", "read_images"]

_BATCH = 64  # pages per destination write


@dataclass(frozen=True)
class CopyReport:
    images: int
    pages: int


def _sqlite_images(path: str, image_ids: list[str]) -> dict[str, ImageData]:
    marks = ",".join("?" * len(image_ids))
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        rows = conn.execute(
            "SELECT id, sha256, width, height, thumbnail, global_desc, points, descriptors, "
            f"embedding FROM images WHERE id IN ({marks})", image_ids).fetchall()
    finally:
        conn.close()
    return {row[0]: ImageData(
        row[1], int(row[2]), int(row[3]),
        stored_features(np.frombuffer(row[5], np.float32),
                        np.frombuffer(row[6], np.float32).reshape(-1, 2),
                        np.frombuffer(row[7], np.uint8).reshape(-1, 32)),
        row[4], None if row[8] is None else np.frombuffer(row[8], np.float32)) for row in rows}


def read_images(source: IndexBackend, image_ids: Iterable[str]) -> dict[str, ImageData]:
    """Whole fingerprints of ``image_ids`` from an index file or a Qdrant collection."""
    from rir.engines.local.qdrant.backend import QdrantBackend
    from rir.engines.local.store import IndexStore

    wanted = sorted(set(image_ids))
    if isinstance(source, QdrantBackend):
        return source.image_data(wanted)
    if isinstance(source, IndexStore) and source.path is not None:
        return _sqlite_images(str(source.path), wanted) if wanted else {}
    raise ConfigurationError(
        f"Cannot copy from {type(source).__name__}: copy from an index file or a Qdrant "
        "collection.")


def copy_index(source: IndexBackend, destination: IndexBackend, *,
               progress: Callable[[int, int], None] | None = None) -> CopyReport:
    """Copy every page (and its image) of ``source`` into the empty ``destination``."""
    if destination.count_pages():
        raise ConfigurationError("The destination index is not empty; copy into a new file "
                                 "or collection.")
    pages = source.pages()
    for start in range(0, len(pages), _BATCH):
        chunk = pages[start:start + _BATCH]
        images = read_images(source, (p.image_id for p in chunk))
        missing = sorted({p.image_id for p in chunk} - set(images))
        if missing:  # removed from the source while copying
            raise EngineError("The source index lost images while copying "
                              f"({', '.join(missing[:3])}); run the copy again.")
        destination.write([(images[p.image_id], PageData(p.title, p.caption, p.url, p.image_url,
                                                         dict(p.metadata))) for p in chunk])
        if progress is not None:
            progress(start + len(chunk), len(pages))
    copied = CopyReport(images=destination.count_images(), pages=destination.count_pages())
    if copied.pages != len(pages):
        raise EngineError(f"The destination holds {copied.pages} pages after copying "
                          f"{len(pages)}; run the copy again into a new destination.")
    return copied
