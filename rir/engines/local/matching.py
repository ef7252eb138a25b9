"""Searching a local index: a described query against the store, into hits that say where.

:class:`Matcher` runs the stages of one search (candidates from the store, geometric
verification, pages) for the whole image, for boxes of it (each part described where
it lies: :func:`~rir.engines.local.features.describe_region`), and, when a whole-image
search finds nothing, for the parts of the picture that look like photos of their own
(:func:`~rir.inputs.region_proposals.propose_regions`). Each hit carries where it
matched (:func:`~rir.engines.local.placement.placement`); each result, how many
candidates shared some geometry with the query but failed (``weak_candidates_dropped``).
Results and hits are plain records (:mod:`rir.results.plain`): the index makes them models at
its edge, and ``rir index search`` prints them without loading pydantic.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
from PIL import Image

from rir.engines.local import features as F
from rir.engines.local.backends import IndexBackend
from rir.engines.local.candidates import Candidate, query_words
from rir.engines.local.embeddings import EmbeddingMatrix
from rir.engines.local.placement import placement
from rir.engines.local.records import ImageInfo, IndexedPage
from rir.engines.local.verification import Check, verify_candidates
from rir.errors import InvalidImageError, InvalidRegionError
from rir.inputs.images import QueryImage
from rir.inputs.region_plan import NATIVE_MAX_AUTO_REGIONS
from rir.inputs.region_proposals import propose_regions
from rir.results.best_guess import guess_from_titles
from rir.results.plain import hit_record, result_record
from rir.urls import site_of

__all__ = ["WEAK_INLIERS", "Box", "Matcher", "checked_box"]

Box = tuple[int, int, int, int]
Record = dict[str, Any]  # a result or a hit as plain data (rir.results.plain)
Embedder = Callable[[Image.Image], Sequence[float]]

#: A candidate with this many RANSAC inliers that still fails verification is counted in
#: ``metadata["weak_candidates_dropped"]``: some of it matched, not enough to be a copy
#: (a photo pasted small into the query, a shared logo).
WEAK_INLIERS = 12
_STANDS_OUT = 1.3  # votes over the median candidate's that make a part's candidate worth a check
_LOOKS_ALIKE = 0.9  # global cosine that makes one worth a check whatever its votes


class Matcher:
    """The searches of one :class:`~rir.engines.local.LocalIndex` (its current options)."""

    def __init__(self, store: IndexBackend, embeddings: EmbeddingMatrix, *,
                 embedder: Embedder | None, min_similarity: float, screenshot: bool) -> None:
        self.store, self.embeddings = store, embeddings
        self.embedder, self.min_similarity, self.screenshot = embedder, min_similarity, screenshot

    def search(self, image: QueryImage, k: int, threshold: float, *,
               find_parts: bool) -> Record:
        """The whole image; if that finds nothing and ``find_parts``, its proposed parts."""
        pil = F.load_for_features(image.data)
        result = self.match(F.extract_query_features(pil), k, threshold, sha256=image.sha256,
                            picture=lambda: pil)
        if result["hits"] or not find_parts or result["metadata"]["index_size"] == 0:
            return result
        try:
            parts = propose_regions(image, max_regions=NATIVE_MAX_AUTO_REGIONS)
        except InvalidImageError:  # too small to hold parts
            return result
        grey = np.asarray(F.grey_image(pil))
        found = [self._match_part(pil, grey, box, k, threshold) for box in parts]
        return _merged(result, found, parts, image.width * image.height, k)

    def search_boxes(self, image: QueryImage, boxes: Sequence[Box], k: int,
                     threshold: float) -> list[tuple[Record, float]]:
        """(result, seconds) per box; the image decoded once, each part described where it
        lies. A box covering the whole image is described as :meth:`search` does it
        (without looking for parts: the caller names them); beside other parts, only its
        candidates that stand out are verified, like theirs (see :func:`_worth_checking`)."""
        pil = F.load_for_features(image.data)
        grey: np.ndarray | None = None
        out = []
        for box in boxes:
            started = time.perf_counter()
            if box == (0, 0, image.width, image.height):
                result = self.match(F.extract_query_features(pil), k, threshold,
                                    sha256=image.sha256, picture=lambda: pil,
                                    part=len(boxes) > 1)
            else:
                grey = np.asarray(F.grey_image(pil)) if grey is None else grey
                result = self._match_part(pil, grey, box, k, threshold)
            out.append((result, time.perf_counter() - started))
        return out

    def _match_part(self, pil: Image.Image, grey: np.ndarray, box: Box, k: int,
                    threshold: float) -> Record:
        """One part of an image (``grey``: the whole of ``pil`` in grey), described where
        it lies and matched beside the other parts."""
        return self.match(F.describe_region(grey, box), k, threshold, sha256=None,
                          picture=lambda: pil.crop(box), part=True)

    def match(self, query: F.QueryFeatures, k: int, threshold: float, *, sha256: str | None,
              picture: Callable[[], Image.Image], part: bool = False) -> Record:
        """The hits of a described query (``sha256``: its bytes', for same-file matches;
        ``part``: one of several parts of the image searched together, see
        :func:`_worth_checking`)."""
        size = self.store.count_images()
        if size == 0:
            return result_record(metadata={"index_size": 0, "pages_not_shown": 0,
                                           "weak_candidates_dropped": 0})
        candidates = self.store.candidates(query_words(query), limit=max(8, k + 4),
                                           sha256=sha256)
        if part:
            candidates = _worth_checking(candidates)
        keypoints = self.store.load_keypoints([c.rowid for c in candidates])
        checks = verify_candidates(candidates, query, keypoints, threshold)
        weak = sum(1 for c in checks.values() if c.score < threshold
                   and c.inliers >= WEAK_INLIERS)
        passed = {rowid: c for rowid, c in checks.items() if c.score >= threshold}
        ranked = sorted(passed.items(), key=lambda item: -item[1].score)[:k]
        if self.embedder is not None:
            vector = np.asarray(self.embedder(picture().convert("RGB")),
                                np.float32).reshape(-1)
            ranked += [(rowid, Check(score, "similar", 0)) for rowid, score
                       in self.embeddings.nearest(self.store, vector, exclude=set(passed), k=k,
                                                  min_similarity=self.min_similarity)]
        result = self._page_hits(ranked, k, index_size=size, frame=query.frame)
        result["metadata"]["weak_candidates_dropped"] = weak
        return result

    def _page_hits(self, ranked: list[tuple[int, Check]], k: int, *, index_size: int,
                   frame: F.Frame | None) -> Record:
        """One hit per page of each matched image, best image first, at most ``k``."""
        rowids = [rowid for rowid, _ in ranked]
        images, pages = self.store.image_info(rowids), self.store.pages_of(rowids)
        hits: list[Record] = []
        thumbnails: list[bytes | None] = []
        not_shown = 0
        for rowid, check in ranked:
            info = images.get(rowid)
            if info is None:  # removed by another process since the candidate stage
                continue
            where = {} if check.transform is None or frame is None else placement(
                check.transform, mirrored=check.mirrored, frame=frame,
                indexed_size=(info.width, info.height))
            for page in pages.get(rowid, []):
                if len(hits) >= k:
                    not_shown += 1
                    continue
                hits.append(_hit(info, page, check, where))
                thumbnails.append(info.thumbnail)
        # Pages of matched images beyond k are counted, so a caller knows there is more.
        result = result_record(hits=hits, best_guess=_best_guess(hits),
                               metadata={"index_size": index_size, "pages_not_shown": not_shown})
        if self.screenshot:
            from rir.prompting.results_sheet import SheetItem, render_results_sheet

            result["screenshot"] = render_results_sheet(
                [SheetItem(h["title"], h["source"] or "", thumb)
                 for h, thumb in zip(hits, thumbnails, strict=True)],
                heading="Visual matches (local index)")
        return result


def checked_box(box: Any, image: QueryImage) -> Box:
    """``box`` as a tuple of ints inside ``image``, or a clear error naming it."""
    try:
        x1, y1, x2, y2 = (int(v) for v in box)
        valid = all(float(v) == int(v) for v in box)
    except (TypeError, ValueError):
        valid = False
    if not valid or not (0 <= x1 < x2 <= image.width and 0 <= y1 < y2 <= image.height):
        raise InvalidRegionError(
            f"Region {box!r} is not a box (x1, y1, x2, y2) of whole pixels inside the "
            f"{image.width}x{image.height} image (0 <= x1 < x2 <= {image.width}, "
            f"0 <= y1 < y2 <= {image.height}).")
    return x1, y1, x2, y2


def _worth_checking(candidates: list[Candidate]) -> list[Candidate]:
    """The candidates of a part worth verifying: the best voted, and those whose votes
    stand out from the rest (the median candidate's votes are what chance gives) or whose
    appearance is close.

    The parts of an image are several searches at once; most parts (a page's margin, a
    slice of the background, the whole of a collage) match nothing or little, and each
    check of a candidate costs about a millisecond. Copies of the part get several times
    the median vote (3x at the median on the benchmark); chance, rarely above 1.3x.
    """
    if len(candidates) <= 1:
        return candidates
    chance = float(np.median([max(c.votes) for c in candidates]))
    return [c for i, c in enumerate(candidates)
            if i == 0 or c.exact or max(c.votes) >= _STANDS_OUT * chance
            or max(c.similarity) >= _LOOKS_ALIKE]


def _merged(whole: Record, parts: list[Record], boxes: Sequence[Box], area: int,
            k: int) -> Record:
    """The parts' hits as one result for the whole image: each page once (its best score),
    best first, ``query_overlap`` a share of the whole image (not of the part)."""
    best: dict[str, Record] = {}
    for part, box in zip(parts, boxes, strict=True):
        share = (box[2] - box[0]) * (box[3] - box[1]) / area
        for hit in part["hits"]:
            key = str(hit["metadata"]["page_id"])
            if key not in best or (hit["score"] or 0) > (best[key]["score"] or 0):
                metadata = dict(hit["metadata"])
                if "query_overlap" in metadata:
                    metadata["query_overlap"] = round(metadata["query_overlap"] * share, 4)
                best[key] = {**hit, "metadata": metadata}
    hits = sorted(best.values(), key=lambda h: -(h["score"] or 0))
    metadata = {**whole["metadata"], "parts_searched": len(parts),
                "pages_not_shown": max(0, len(hits) - k),
                "weak_candidates_dropped": sum(r["metadata"]["weak_candidates_dropped"]
                                               for r in (whole, *parts))}
    return result_record(hits=hits[:k], best_guess=_best_guess(hits[:k]), metadata=metadata,
                         screenshot=whole["screenshot"])


def _hit(info: ImageInfo, page: IndexedPage, check: Check,
         where: Mapping[str, Any]) -> Record:
    thumbnail = None
    if info.thumbnail:
        thumbnail = "data:image/jpeg;base64," + base64.b64encode(info.thumbnail).decode()
    source = page.metadata.get("source") or site_of(page.url) or "local index"
    return hit_record(
        title=page.title, url=page.url, source=str(source), image_url=page.image_url,
        thumbnail_url=thumbnail, snippet=page.caption, score=float(check.score),
        match_type=check.match, width=int(info.width), height=int(info.height),
        metadata={**page.metadata, "id": page.page_id, "page_id": page.page_id,
                  "image_id": page.image_id, "inliers": int(check.inliers), **where},
    )


def _best_guess(hits: Sequence[Record]) -> str | None:
    """Consensus of the matching titles, else the title of a confident top hit."""
    titles = [h["title"] for h in hits if h["title"]]
    guess = guess_from_titles(titles) if len(titles) >= 2 else None
    if guess is not None:
        return guess.label
    if hits and (hits[0]["score"] or 0) >= 0.5:
        return hits[0]["title"]
    return None
