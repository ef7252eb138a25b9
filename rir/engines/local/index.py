"""``LocalIndex``: a reverse image search over your own images, in one SQLite file.

    >>> from rir.engines.local import LocalIndex
    >>> index = LocalIndex("photos.rir")  # LocalIndex() is the default index, ":memory:" RAM
    >>> index.add("eiffel.jpg", title="Eiffel Tower", caption="Paris, at dusk")
    >>> index.add_folder("archive/", captions="archive/captions.jsonl")
    >>> result = index.search("cropped_copy.jpg", k=5)

It finds the same picture resized, re-encoded, cropped, mirrored, slightly
rotated, re-lit, turned grey or with a caption band or watermark added, and
returns nothing (rather than a random "best" hit) when no indexed image
matches. See :mod:`rir.engines.local.features` for how.
"""

from __future__ import annotations

import functools
import logging
import sqlite3
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image

from rir._runtime import in_thread, run_sync
from rir.engines.base import Engine, check_k
from rir.engines.local import features as F
from rir.engines.local.backends import IndexBackend, open_backend
from rir.engines.local.captions import caption_for, load_captions, title_from_filename
from rir.engines.local.embeddings import EmbeddingMatrix
from rir.engines.local.folder import (
    AddReport,
    Progress,
    fingerprint,
    fingerprint_files,
    list_images,
    resolve_workers,
)
from rir.engines.local.location import missing_index_error, resolve_index_path
from rir.engines.local.matching import Box, Matcher, checked_box
from rir.engines.local.records import ImageData, IndexedPage, PageData
from rir.engines.local.store import IndexStore
from rir.errors import ConfigurationError, EngineError, check_number
from rir.inputs.images import ImageInput, QueryImage, aload_image, load_image
from rir.results.plain import finalize_record

if TYPE_CHECKING:
    from rir.engines.http.secrets import SecretInput
    from rir.results.models import SearchResult

__all__ = ["AddReport", "IndexedPage", "LocalIndex", "open_index"]

logger = logging.getLogger(__name__)

Embedder = Callable[[Image.Image], Sequence[float]]
_WRITE_BATCH = 64  # images per transaction in add_folder


def _model(record: dict[str, Any]) -> SearchResult:
    """The model of a search's record (pydantic loads here, when a model is asked for)."""
    from rir.results.models import SearchResult

    return SearchResult.model_validate(record)


def _check_min_score(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
        raise ConfigurationError(f"min_score must be a number between 0 and 1, got {value!r}.")
    return float(value)


class LocalIndex(Engine):
    """A reverse image index of your own images (registry name ``local``).

    An indexed image can be on many pages: adding the same picture with another
    ``url`` adds a page, and a search returns every page that shows it.

    Args:
        path: the index file; ``None`` for the default index (``$RIR_INDEX``, else
            ``index.rir`` in the user data dir, where ``rir index add`` writes), or
            ``":memory:"`` for an in-memory index.
        create: create the index file when it does not exist; with ``False`` a missing
            file is a :class:`~rir.errors.ConfigurationError` naming ``rir index add``
            (what ``get_engine("local")`` uses: a search never runs on a new, empty file).
        min_score: hits scoring below this (0-1) are not returned (per call too).
        embedder: optional callable image -> vector (e.g. a CLIP model you have) that
            adds semantically similar images as ``match_type="similar"`` hits.
        min_similarity: cosine similarity an embedding hit needs.
        screenshot: render a results sheet PNG into ``SearchResult.screenshot``.
        find_parts: when a whole-image search finds nothing, search the parts of the
            picture that look like photos of their own (a photo in a screenshot, a
            collage's cells: :func:`~rir.inputs.region_proposals.propose_regions`), so a
            picture that is only part of the query is still found; its hits say where
            (``metadata["query_box"]``) and the result how many parts were searched
            (``metadata["parts_searched"]``).
        backend: storage other than the SQLite file at ``path``: ``"qdrant"`` (with
            ``url``, ``api_key``, ``collection``, and for a new collection ``shard_number``
            and ``replication_factor``; see :mod:`.qdrant_backend`), or an object
            implementing :class:`~rir.engines.local.backends.IndexBackend`.
    """

    name = "local"
    cacheable = False  # searches are fast and the index changes under the cache
    searches_boxes_natively = True  # one decode, each part described where it lies

    def __init__(
        self,
        path: str | Path | None = None,
        *,
        create: bool = True,
        min_score: float = 0.3,
        embedder: Embedder | None = None,
        min_similarity: float = 0.85,
        screenshot: bool = False,
        find_parts: bool = True,
        backend: IndexBackend | str | None = None,
        url: str | None = None,
        api_key: SecretInput = None,
        collection: str | None = None,
        shard_number: int | None = None,
        replication_factor: int | None = None,
    ) -> None:
        self.min_score = _check_min_score(min_score)
        elsewhere = backend is not None and backend != "sqlite"  # not in an index file
        if elsewhere and path is not None:
            raise ConfigurationError(f"path is for the SQLite index file; backend={backend!r} "
                                     "stores the index elsewhere: leave path out.")
        self.path = None if elsewhere else resolve_index_path(path)
        if not create and self.path is not None and not self.path.is_file():
            raise missing_index_error(self.path, default=path is None)
        self.embedder = embedder
        self.min_similarity = float(check_number("min_similarity", min_similarity,
                                                 minimum=-1.0, maximum=1.0))
        self.screenshot = screenshot
        self.find_parts = bool(find_parts)
        self._store: IndexBackend = open_backend(
            backend, self.path, create=create, url=url, api_key=api_key, collection=collection,
            shard_number=shard_number, replication_factor=replication_factor)
        self._embeddings = EmbeddingMatrix()

    # -- adding -------------------------------------------------------------------------------

    def add(
        self,
        image: ImageInput | Any,
        *,
        title: str,
        caption: str | None = None,
        url: str | None = None,
        image_url: str | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> str:
        """Index ``image`` as shown on a page (title, optional caption, url, metadata).

        Returns the page id. The image is stored once: the same image with a new
        ``url`` adds a page; with the same url (or, without url, the same title) it
        updates that page's text.
        """
        page = _page_data(title, caption, url, image_url, metadata)
        query = image if isinstance(image, QueryImage) else load_image(image)
        data = self._with_embedding(fingerprint(query), query.data)
        if page.image_url is None and query.url is not None:
            page = PageData(page.title, page.caption, page.url, query.url, page.metadata)
        return self._store.write([(data, page)])[0]

    async def aadd(
        self,
        image: ImageInput | Any,
        *,
        title: str,
        caption: str | None = None,
        url: str | None = None,
        image_url: str | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> str:
        """Async twin of :meth:`add` (loading and feature extraction off the event loop)."""
        query = image if isinstance(image, QueryImage) else await aload_image(image)
        return await in_thread(self.add, query, title=title, caption=caption, url=url,
                               image_url=image_url, metadata=metadata)

    def add_folder(
        self,
        folder: str | Path,
        captions: str | Path | None = None,
        *,
        recursive: bool = True,
        workers: int | None = None,
        progress: Progress | None = None,
        executor: str = "processes",
    ) -> AddReport:
        """Index every image in ``folder`` (titles from ``captions``, sidecars or file names).

        Fingerprints are computed on ``workers`` processes (default: every core);
        ``progress(done, total)`` is called after each file, indexed or failed. A
        file that cannot be indexed is reported in ``AddReport.failed`` and the
        others are still indexed; images are written in small atomic batches, so
        an interrupted run leaves a consistent index holding the batches written.
        ``executor="ray"`` fingerprints on Ray instead (``$RAY_ADDRESS``, else a local
        Ray; see :mod:`.ray_fingerprints`); ``workers`` is then for Ray to decide.
        """
        root = Path(folder).expanduser()
        records = load_captions(captions) if captions is not None else None
        files = list_images(root, recursive=recursive)
        report = AddReport()
        batch: list[tuple[Path, ImageData, PageData]] = []
        for done, (path, data, error) in enumerate(_fingerprints(files, workers, executor),
                                                   start=1):
            if data is None:
                report.failed.append((str(path), error or "unknown error"))
            else:
                record = caption_for(path, root, records)
                page = PageData(title=record.title or title_from_filename(path),
                                caption=record.caption, url=record.url,
                                image_url=record.image_url,
                                metadata={"file": path.relative_to(root).as_posix(),
                                          **record.metadata})
                batch.append((path, self._with_embedding(data, path.read_bytes())
                              if self.embedder else data, page))
            if len(batch) >= _WRITE_BATCH:
                self._write_batch(batch, report)
            if progress is not None:
                progress(done, len(files))
        self._write_batch(batch, report)
        return report

    def _write_batch(self, batch: list[tuple[Path, ImageData, PageData]],
                     report: AddReport) -> None:
        if not batch:
            return
        try:
            report.added.extend(self._store.write([(data, page) for _, data, page in batch]))
        # e.g. disk full, or the Qdrant server failing: none of this batch written
        except (sqlite3.Error, OSError, EngineError) as exc:
            report.failed.extend((str(path), f"not written to the index: {exc}")
                                 for path, _, _ in batch)
        batch.clear()

    def _with_embedding(self, data: ImageData, image_bytes: bytes) -> ImageData:
        """Add the optional embedder's vector (in this process: the embedder may not pickle)."""
        if self.embedder is None:
            return data
        pil = F.load_for_features(image_bytes).convert("RGB")
        vector = np.asarray(self.embedder(pil), dtype=np.float32).reshape(-1)
        return ImageData(data.sha256, data.width, data.height, data.features, data.thumbnail,
                         vector)

    # -- removing and listing -----------------------------------------------------------------

    def remove(self, page_id: str) -> bool:
        """Delete a page by id (an image left on no page goes too); whether it existed."""
        return self._store.remove_page(page_id)

    def remove_image(self, image_id: str) -> int:
        """Delete an image and every page it is on; returns the number of pages removed."""
        return self._store.remove_image(image_id)

    def pages(self, image_id: str | None = None) -> list[IndexedPage]:
        """The pages of one image (``metadata["image_id"]`` of a hit), or all pages."""
        return self._store.pages(image_id)

    # -- searching ----------------------------------------------------------------------------

    async def asearch(self, image: ImageInput | Any, *, k: int = 10,
                      min_score: float | None = None) -> SearchResult:
        """Search for ``image``: at most ``k`` hits (pages), best image first."""
        threshold = self.min_score if min_score is None else _check_min_score(min_score)
        check_k(k)
        query = image if isinstance(image, QueryImage) else await aload_image(image)
        return _model(await in_thread(self._finalized_search, query, k, threshold))

    def search(self, image: ImageInput | Any, *, k: int = 10,
               min_score: float | None = None) -> SearchResult:
        """Synchronous twin of :meth:`asearch`."""
        return run_sync(self.asearch(image, k=k, min_score=min_score))

    def query(self, image: ImageInput | Any, *, k: int = 10,
              min_score: float | None = None) -> SearchResult:
        """Search without the event loop (a plain function call); same as :meth:`search`."""
        return _model(self.query_data(image, k=k, min_score=min_score))

    def query_data(self, image: ImageInput | Any, *, k: int = 10,
                   min_score: float | None = None) -> dict[str, Any]:
        """:meth:`query`'s result as plain data, without loading pydantic: a dict of
        :class:`~rir.results.models.SearchResult`'s fields (its hits, dicts of
        ``SearchHit``'s), which ``SearchResult.model_validate`` turns into the model.

        For a short process that only prints or forwards the result (``rir index search``
        uses it): pydantic's import costs more than a search of a big index.
        """
        threshold = self.min_score if min_score is None else _check_min_score(min_score)
        check_k(k)
        query = image if isinstance(image, QueryImage) else load_image(image)
        return self._finalized_search(query, k, threshold)

    async def _asearch(self, image: QueryImage, *, k: int) -> SearchResult:
        return _model(await in_thread(self._matcher().search, image, k, self.min_score,
                                      find_parts=self.find_parts))

    async def asearch_boxes(self, image: ImageInput | Any, boxes: Sequence[Box], *,
                            k: int = 10, min_score: float | None = None
                            ) -> list[SearchResult]:
        """One result per box ``(x1, y1, x2, y2)`` (pixels of ``image`` as loaded), in order,
        each as if that part had been searched on its own.

        The image is decoded once and each part described where it lies, at its own
        resolution (see :func:`~rir.engines.local.features.describe_region`), so several
        parts cost far less than as many searches of crops. Hits say where they matched
        in the full image's pixels (``metadata["query_box"]``). A box equal to the whole
        image is described as :meth:`asearch` does it; beside other boxes, only the
        candidates whose votes stand out are verified, for it as for the parts.
        """
        threshold = self.min_score if min_score is None else _check_min_score(min_score)
        check_k(k)
        query = image if isinstance(image, QueryImage) else await aload_image(image)
        wanted = [checked_box(box, query) for box in boxes]
        return await in_thread(self._search_boxes, query, wanted, k, threshold)

    def search_boxes(self, image: ImageInput | Any, boxes: Sequence[Box], *, k: int = 10,
                     min_score: float | None = None) -> list[SearchResult]:
        """Synchronous twin of :meth:`asearch_boxes`."""
        return run_sync(self.asearch_boxes(image, boxes, k=k, min_score=min_score))

    def _finalized_search(self, image: QueryImage, k: int, threshold: float) -> dict[str, Any]:
        started = time.perf_counter()
        result = self._matcher().search(image, k, threshold, find_parts=self.find_parts)
        return finalize_record(result, engine=self.name, query_sha256=image.sha256, k=k,
                               elapsed_s=time.perf_counter() - started)

    def _search_boxes(self, image: QueryImage, boxes: list[Box], k: int,
                      threshold: float) -> list[SearchResult]:
        return [_model(finalize_record(result, engine=self.name, query_sha256=image.sha256,
                                       k=k, elapsed_s=elapsed))
                for result, elapsed in self._matcher().search_boxes(image, boxes, k, threshold)]

    def _matcher(self) -> Matcher:
        return Matcher(self._store, self._embeddings, embedder=self.embedder,
                       min_similarity=self.min_similarity, screenshot=self.screenshot)

    # -- housekeeping -------------------------------------------------------------------------

    def __len__(self) -> int:
        """The number of pages (an image on three pages counts three times)."""
        return self._store.count_pages()

    def stats(self, *, check: bool = False) -> dict[str, Any]:
        """images, pages, bytes (on disk), path, format and feature version.

        ``check=True`` first reads every page of an index file (SQLite's ``quick_check``,
        about 5 s per GB): a damaged file raises ConfigurationError instead of giving
        counts, and the answer says ``"integrity": "ok"``. Off by default: a summary
        after each ``add`` must not cost a read of the whole file.
        """
        if check and isinstance(self._store, IndexStore):
            self._store.check_integrity()
            return {**self._store.stats(), "integrity": "ok"}
        return self._store.stats()

    def cache_key_options(self) -> Mapping[str, Any]:
        where = str(self.path) if self.path else (
            ":memory:" if isinstance(self._store, IndexStore) else repr(self._store))
        return {"path": where, "min_score": self.min_score, "find_parts": self.find_parts}

    async def aclose(self) -> None:
        self._store.close()

    def close(self) -> None:
        self._store.close()

    def __repr__(self) -> str:
        if self.path is None and not isinstance(self._store, IndexStore):
            return f"LocalIndex(backend={self._store!r})"
        return f"LocalIndex(path={str(self.path) if self.path else ':memory:'!r})"


def _fingerprints(files: list[Path], workers: int | None,
                  executor: str) -> Iterator[tuple[Path, ImageData | None, str | None]]:
    if executor == "processes":
        return fingerprint_files(files, workers=resolve_workers(workers))
    if executor == "ray":
        if workers is not None:
            raise ConfigurationError("workers is for the process pool; with executor='ray' "
                                     "the cluster's CPUs are used: leave workers out.")
        from rir.engines.local.ray_fingerprints import fingerprint_files_ray

        return fingerprint_files_ray(files)
    raise ConfigurationError(f"executor must be 'processes' or 'ray', got {executor!r}.")


def _page_data(title: Any, caption: str | None, url: str | None, image_url: str | None,
               metadata: Mapping[str, Any] | None) -> PageData:
    if not isinstance(title, str) or not title.strip():
        raise ConfigurationError("Each indexed image needs a non-empty title (what it shows).")
    if metadata is not None and not isinstance(metadata, Mapping):
        raise ConfigurationError(f"metadata must be a mapping, got {type(metadata).__name__}.")
    return PageData(title=title.strip(), caption=caption, url=url or None,
                    image_url=image_url or None, metadata=dict(metadata or {}))


# What the registry builds for get_engine("local", ...): an existing index only. A partial
# (not a wrapper function) so the registry's option check sees LocalIndex's real signature
# and rejects unknown options by name.
open_index = functools.partial(LocalIndex, create=False)
