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

import asyncio
import base64
import io
import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from rir.best_guess import guess_from_titles
from rir.engines.base import Engine, check_k
from rir.engines.local import features as F
from rir.engines.local.candidates import CandidateIndex
from rir.engines.local.captions import caption_for, load_captions, title_from_filename
from rir.engines.local.location import MEMORY, missing_index_error, resolve_index_path
from rir.engines.local.store import EntryRecord, IndexStore
from rir.errors import ConfigurationError, RIRError
from rir.extract import site_of
from rir.images import ImageInput, QueryImage, aload_image, load_image
from rir.models import SearchHit, SearchResult
from rir.render import SheetItem, render_results_sheet

__all__ = ["AddReport", "LocalIndex"]

logger = logging.getLogger(__name__)

Embedder = Callable[[Image.Image], Sequence[float]]
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp", ".tif", ".tiff"}
_THUMB_SIDE = 160


@dataclass
class AddReport:
    """What :meth:`LocalIndex.add_folder` did: ids added and files that failed, with why."""

    added: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)

    def __str__(self) -> str:
        return f"{len(self.added)} images indexed, {len(self.failed)} failed"


@dataclass(frozen=True)
class _Prepared:
    image: QueryImage
    features: F.IndexFeatures
    thumbnail: bytes
    embedding: np.ndarray | None


class LocalIndex(Engine):
    """A reverse image index of your own images (registry name ``local``).

    Args:
        path: the index file; ``None`` for the default index (``$RIR_INDEX``, else
            ``index.rir`` in the user data dir, where ``rir index add`` writes), or
            ``":memory:"`` for an in-memory index.
        create: create the index file when it does not exist; with ``False`` a missing
            file is a :class:`~rir.errors.ConfigurationError` naming ``rir index add``
            (what ``get_engine("local")`` uses: a search never runs on a new, empty file).
        min_score: hits scoring below this (0-1) are not returned.
        embedder: optional callable image -> vector (e.g. a CLIP model you have) that
            adds semantically similar images as ``match_type="similar"`` hits.
        min_similarity: cosine similarity an embedding hit needs.
        screenshot: render a results sheet PNG into ``SearchResult.screenshot``.
    """

    name = "local"
    cacheable = False  # searches are fast and the index changes under the cache

    def __init__(
        self,
        path: str | Path | None = None,
        *,
        create: bool = True,
        min_score: float = 0.3,
        embedder: Embedder | None = None,
        min_similarity: float = 0.85,
        screenshot: bool = False,
    ) -> None:
        if not 0.0 <= min_score <= 1.0:
            raise ConfigurationError(f"min_score must be between 0 and 1, got {min_score!r}.")
        self.path = resolve_index_path(path)
        if not create and self.path is not None and not self.path.is_file():
            raise missing_index_error(self.path, default=path is None)
        self.min_score = float(min_score)
        self.embedder = embedder
        self.min_similarity = float(min_similarity)
        self.screenshot = screenshot
        self._store = IndexStore(self.path)
        self._memory_lock = threading.Lock()
        self._candidates = CandidateIndex()
        self._loaded_versions = (-1, -1)
        self._loaded_rowid = 0

    # -- adding -------------------------------------------------------------------------------

    def add(
        self,
        image: ImageInput | Any,
        *,
        title: str,
        caption: str | None = None,
        url: str | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> str:
        """Index ``image`` with a title (and optional caption, page URL, metadata).

        Returns the entry id (derived from the image bytes, so adding the same image
        again updates its text instead of duplicating it).
        """
        if not isinstance(title, str) or not title.strip():
            raise ConfigurationError("Each indexed image needs a non-empty title (what it shows).")
        prepared = self._prepare(load_image(image))
        return self._store_prepared(prepared, title=title.strip(), caption=caption, url=url,
                                    image_url=prepared.image.url, metadata=dict(metadata or {}))

    async def aadd(self, image: ImageInput | Any, **kwargs: Any) -> str:
        """Async twin of :meth:`add` (loading and feature extraction off the event loop)."""
        query = await aload_image(image)
        return await asyncio.to_thread(self.add, query, **kwargs)

    def add_folder(
        self,
        folder: str | Path,
        captions: str | Path | None = None,
        *,
        recursive: bool = True,
        workers: int = 2,
    ) -> AddReport:
        """Index every image in ``folder`` (titles from ``captions``, sidecars or file names).

        A file that is not a valid image is reported in ``AddReport.failed``; the
        others are still indexed.
        """
        root = Path(folder).expanduser()
        if not root.is_dir():
            raise ConfigurationError(f"Not a folder: '{root}'; pass a directory of images.")
        records = load_captions(captions) if captions is not None else None
        pattern = "**/*" if recursive else "*"
        files = sorted(p for p in root.glob(pattern)
                       if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
        if not files:
            raise ConfigurationError(
                f"No images in '{root}' (looked for {', '.join(sorted(IMAGE_SUFFIXES))})."
            )
        report = AddReport()

        def prepare(path: Path) -> tuple[Path, _Prepared | None, str | None]:
            try:
                return path, self._prepare(load_image(path)), None
            except RIRError as exc:
                return path, None, str(exc)

        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            for path, prepared, error in pool.map(prepare, files):
                if prepared is None:
                    report.failed.append((str(path), error or "unknown error"))
                    continue
                record = caption_for(path, root, records)
                report.added.append(self._store_prepared(
                    prepared,
                    title=record.title or title_from_filename(path),
                    caption=record.caption,
                    url=record.url,
                    image_url=record.image_url,
                    metadata={"file": path.relative_to(root).as_posix(), **record.metadata},
                ))
        return report

    def remove(self, entry_id: str) -> bool:
        """Delete an entry by id; returns whether it existed."""
        return self._store.delete(entry_id)

    def _prepare(self, image: QueryImage) -> _Prepared:
        pil = F.load_for_features(image.data)
        features = F.extract_index_features(pil)
        thumb = pil.convert("RGB")
        thumb.thumbnail((_THUMB_SIDE, _THUMB_SIDE))
        buffer = io.BytesIO()
        thumb.save(buffer, "JPEG", quality=80)
        embedding = None
        if self.embedder is not None:
            embedding = np.asarray(self.embedder(pil.convert("RGB")), dtype=np.float32).reshape(-1)
        return _Prepared(image, features, buffer.getvalue(), embedding)

    def _store_prepared(self, prepared: _Prepared, *, title: str, caption: str | None,
                        url: str | None, image_url: str | None,
                        metadata: dict[str, Any]) -> str:
        entry_id = prepared.image.sha256[:20]
        self._store.upsert(
            entry_id=entry_id, sha256=prepared.image.sha256, title=title, caption=caption,
            url=url, image_url=image_url, metadata=metadata, width=prepared.image.width,
            height=prepared.image.height, thumbnail=prepared.thumbnail,
            features=prepared.features, embedding=prepared.embedding,
        )
        return entry_id

    # -- searching ----------------------------------------------------------------------------

    async def _asearch(self, image: QueryImage, *, k: int) -> SearchResult:
        return await asyncio.to_thread(self._search, image, k)

    def query(self, image: ImageInput | Any, *, k: int = 10) -> SearchResult:
        """Search without the event loop (plain function call); same as :meth:`search`."""
        check_k(k)
        return self._search(load_image(image), k)

    def _sync_memory(self) -> CandidateIndex:
        """Bring the in-memory candidate index up to date with the file (other processes too)."""
        with self._memory_lock:
            generation, deletions = self._store.versions()
            if (generation, deletions) != self._loaded_versions:
                if deletions != self._loaded_versions[1]:  # appends load incrementally; deletes not
                    self._candidates, self._loaded_rowid = CandidateIndex(), 0
                rowids, globals_, words, embeddings = self._store.load_search_arrays(
                    self._loaded_rowid)
                if len(rowids):
                    vectors = [None if e is None else np.frombuffer(e, np.float32)
                               for e in embeddings]
                    self._candidates.extend(rowids, globals_, words, vectors)
                    self._loaded_rowid = int(rowids[-1])
                self._loaded_versions = (generation, deletions)
            return self._candidates

    def _search(self, image: QueryImage, k: int) -> SearchResult:
        candidates = self._sync_memory()
        pil = F.load_for_features(image.data)
        query = F.extract_query_features(pil)
        if len(candidates) == 0:
            return SearchResult(metadata={"index_size": 0})
        votes = np.stack([candidates.lsh_votes(F.lsh_words(query.descriptors[0])),
                          candidates.lsh_votes(F.lsh_words(query.descriptors[1]))], axis=1)
        similarity = candidates.global_similarities(query.global_descs)
        exact = set(self._store.find_by_sha256(image.sha256))

        scored = self._verify_candidates(candidates, query, votes, similarity, exact, k)
        scored = {rowid: s for rowid, s in scored.items() if s[0] >= self.min_score}
        similar = self._embedding_candidates(candidates, pil, exclude=set(scored), k=k)
        ranked = sorted(scored.items(), key=lambda item: -item[1][0])[:k]
        records = self._store.load_records([r for r, _ in ranked] + [r for r, _ in similar])
        hits = [self._hit(records[rowid], score, match, inliers)
                for rowid, (score, match, inliers) in ranked if rowid in records]
        hits += [self._hit(records[rowid], score, "similar", 0)
                 for rowid, score in similar if rowid in records][: max(0, k - len(hits))]
        result = SearchResult(hits=hits, best_guess=_best_guess(hits),
                              metadata={"index_size": len(candidates)})
        if self.screenshot:
            result.screenshot = render_results_sheet(
                [SheetItem(h.title, h.source or "", records[r].thumbnail)
                 for h, (r, _) in zip(hits, ranked + similar, strict=False)],
                heading="Visual matches (local index)")
        return result

    def _verify_candidates(
        self,
        candidates: CandidateIndex,
        query: F.QueryFeatures,
        votes: np.ndarray,
        similarity: np.ndarray,
        exact: set[int],
        k: int,
    ) -> dict[int, tuple[float, str, int]]:
        """Geometrically verify the most promising candidates; score each in [0, 1]."""
        best_votes = votes.max(axis=1)
        order = [i for i in _top(best_votes, max(8, k + 4)) if best_votes[i] > 0]
        best_similarity = similarity.max(axis=1)
        for i in _top(best_similarity, 4):
            if i not in order and best_similarity[i] > 0.8:
                order.append(i)
        exact_positions = [int(i) for i in np.flatnonzero(np.isin(candidates.rowids, list(exact)))]
        order = exact_positions + [i for i in order if i not in exact_positions]
        keypoints = self._store.load_keypoints([int(candidates.rowids[i]) for i in order])
        scored: dict[int, tuple[float, str, int]] = {}
        misses = 0
        for position in order:
            rowid = int(candidates.rowids[position])
            mirrored = int(votes[position, 1] > votes[position, 0]) if best_votes[position] > 0 \
                else int(similarity[position, 1] > similarity[position, 0])
            points, descriptors = keypoints.get(rowid, (np.zeros((0, 2), np.float32),
                                                        np.zeros((0, 32), np.uint8)))
            check = F.verify(query.points[mirrored], query.descriptors[mirrored], points,
                             descriptors)
            appearance = F.global_score(float(best_similarity[position]))
            score = max(F.geometric_score(check), appearance)
            match = "exact" if rowid in exact or appearance >= 0.99 else "visual"
            if rowid in exact:
                score = 1.0
            scored[rowid] = (round(score, 4), match, check.inliers)
            misses = 0 if score >= self.min_score else misses + 1
            if misses >= 4 and any(s[0] >= self.min_score for s in scored.values()):
                break  # candidates are in vote order: the rest are weaker still
        return scored

    def _embedding_candidates(self, candidates: CandidateIndex, pil: Image.Image, *,
                              exclude: set[int], k: int) -> list[tuple[int, float]]:
        if self.embedder is None:
            return []
        vector = np.asarray(self.embedder(pil.convert("RGB")), dtype=np.float32).reshape(-1)
        similarities = candidates.embedding_similarities(vector)
        if similarities is None:
            return []
        out = []
        for i in np.argsort(-similarities)[: k + len(exclude)]:
            rowid = int(candidates.rowids[i])
            if rowid not in exclude and similarities[i] >= self.min_similarity:
                out.append((rowid, round(float(similarities[i]), 4)))
        return out[:k]

    @staticmethod
    def _hit(record: EntryRecord, score: float, match: str, inliers: int) -> SearchHit:
        thumbnail = None
        if record.thumbnail:
            thumbnail = "data:image/jpeg;base64," + base64.b64encode(record.thumbnail).decode()
        source = record.metadata.get("source") or site_of(record.url) or "local index"
        return SearchHit(
            title=record.title, url=record.url, source=str(source), image_url=record.image_url,
            thumbnail_url=thumbnail, snippet=record.caption, score=score,
            match_type=match,  # type: ignore[arg-type]
            width=record.width, height=record.height,
            metadata={**record.metadata, "id": record.id, "inliers": inliers},
        )

    # -- housekeeping -------------------------------------------------------------------------

    def __len__(self) -> int:
        return self._store.count()

    def stats(self) -> dict[str, Any]:
        return self._store.stats()

    def cache_key_options(self) -> Mapping[str, Any]:
        return {"path": str(self.path) if self.path else ":memory:", "min_score": self.min_score}

    async def aclose(self) -> None:
        self._store.close()

    def close(self) -> None:
        self._store.close()

    def __repr__(self) -> str:
        return f"LocalIndex(path={str(self.path) if self.path else MEMORY!r})"


def _top(values: np.ndarray, n: int) -> list[int]:
    """Positions of the ``n`` largest values, largest first (argpartition: O(len))."""
    if len(values) > n:
        part = np.argpartition(-values, n)[:n]
        return [int(i) for i in part[np.argsort(-values[part], kind="stable")]]
    return [int(i) for i in np.argsort(-values, kind="stable")]


def _best_guess(hits: Sequence[SearchHit]) -> str | None:
    """Consensus of the matching titles, else the title of a confident top hit."""
    titles = [h.title for h in hits if h.title]
    guess = guess_from_titles(titles) if len(titles) >= 2 else None
    if guess is not None:
        return guess.label
    if hits and (hits[0].score or 0) >= 0.5:
        return hits[0].title
    return None
