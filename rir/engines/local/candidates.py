"""The candidate stage: which indexed images are worth verifying geometrically.

A query is described twice (as is and mirrored). For each side it votes, with
IDF weights, for the images sharing its keypoint LSH words, and separately
counts the global-descriptor LSH tables it shares with each image (the
near-identical-appearance route for pictures with few keypoints). Only the
posting lists of the query's words are read from the index file.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

import numpy as np

from rir.engines.local import features as F
from rir.engines.local.postings import PostingsIndex

__all__ = ["Candidate", "QueryWords", "VoteBuffers", "find_candidates", "query_words"]

_GLOBAL_POOL = 16  # images with the most shared global words whose descriptors are compared
_GLOBAL_KEEP = 4  # of those, how many (above _GLOBAL_MIN cosine) join the candidates
_GLOBAL_MIN = 0.8
COMMON_WORD_SHARE = 1000  # a word in more than 1/1000 of the images is skipped


@dataclass(frozen=True)
class QueryWords:
    """A query's words and global descriptors, as is (index 0) and mirrored (index 1)."""

    keypoint_words: tuple[np.ndarray, np.ndarray]
    global_words: tuple[np.ndarray, np.ndarray]
    global_descs: np.ndarray  # float32 [2, GLOBAL_DIM]


@dataclass(frozen=True)
class Candidate:
    """An image to verify: its rowid, votes and global cosine per query side."""

    rowid: int
    votes: tuple[float, float]
    similarity: tuple[float, float]
    exact: bool = False  # same bytes as the query


def query_words(query: F.QueryFeatures) -> QueryWords:
    return QueryWords(
        keypoint_words=(F.lsh_words(query.descriptors[0]).astype(np.int64),
                        F.lsh_words(query.descriptors[1]).astype(np.int64)),
        global_words=(F.global_words(query.global_descs[0]),
                      F.global_words(query.global_descs[1])),
        global_descs=query.global_descs,
    )


def _top(values: np.ndarray, n: int, floors: tuple[float, ...],
         mask: np.ndarray | None = None) -> np.ndarray:
    """Positions of the ``n`` largest positive values, largest first, ties by position.

    Sorting every voted image would cost more than the vote itself (at 1M images a
    query's postings touch about 300k), so the search looks above each floor in
    turn (highest first) and stops at the first that ``n`` values exceed: the top
    ``n`` then all lie above it, so the answer is exact. ``mask``, if given, is a
    reusable boolean array at least as long as ``values``.
    """
    mask = np.empty(len(values), bool) if mask is None else mask[: len(values)]
    for floor in (*floors, 0):
        np.greater(values, values.dtype.type(floor), out=mask)  # no casting, no new array
        above = np.flatnonzero(mask)  # ascending positions
        if len(above) >= n:
            break
    if len(above) > n:
        found = values[above]
        nth = -np.partition(-found, n - 1)[n - 1]
        greater = above[found > nth]
        above = np.concatenate([greater, above[found == nth][: n - len(greater)]])
    return above[np.lexsort((above, -values[above]))]


class VoteBuffers:
    """Reusable vote arrays, one per query side, as long as the highest rowid.

    A query's votes land on rowids anywhere in the index, so they are tallied in
    dense arrays. Allocating those afresh for every query (8 MB each at 1M images)
    costs more in page faults than the tally itself; these are kept, and a query
    clears only the entries it touched. Not thread-safe: the store's lock guards it.
    """

    def __init__(self) -> None:
        self._votes = [np.zeros(0, np.float64), np.zeros(0, np.float64)]
        self.mask = np.zeros(0, bool)

    def tally(self, side: int, rowids: np.ndarray, weights: np.ndarray | float) -> np.ndarray:
        """Side ``side``'s votes after adding ``weights`` at ``rowids`` (``intp``; call
        :meth:`clear` with the same rowids when done)."""
        size = int(rowids.max()) + 1 if len(rowids) else 0
        votes = self._votes[side]
        if size > len(votes):
            votes = self._votes[side] = np.zeros(max(size, 2 * len(votes)), np.float64)
        if len(self.mask) < len(votes):
            self.mask = np.zeros(len(votes), bool)
        np.add.at(votes, rowids, weights)
        return votes[:size]

    def clear(self, side: int, rowids: np.ndarray) -> None:
        self._votes[side][rowids] = 0.0


def _best(n: int, *sides: tuple[np.ndarray, np.ndarray]) -> list[int]:
    """The ``n`` rowids with the largest vote on either side (each side: its votes, its top).

    Exact without a dense maximum over both sides: an image in the top ``n`` by its
    better side is in that side's own top ``n``.
    """
    pooled = F.unique_words(np.concatenate([top for _, top in sides]))
    best = np.max([_at(votes, pooled) for votes, _ in sides], axis=0)
    return [int(r) for r in pooled[np.lexsort((pooled, -best))][:n]]


def _at(votes: np.ndarray, rowids: np.ndarray) -> np.ndarray:
    """``votes[rowids]``, 0 for rowids past the end (no posting reached them)."""
    inside = rowids < len(votes)
    out = np.zeros(len(rowids), np.float64)
    out[inside] = votes[rowids[inside]]
    return out


def find_candidates(
    conn: sqlite3.Connection,
    postings: PostingsIndex,
    query: QueryWords,
    *,
    images: int,
    counts: np.ndarray,
    removed: np.ndarray,
    limit: int,
    exact: list[int],
    buffers: VoteBuffers,
) -> list[Candidate]:
    """Up to ``limit`` images by keypoint votes, plus near-identical ones, exact copies first."""
    if images <= 0:
        return []
    # A word found in more than 0.1% of the index carries little information but costs time
    # (ORB bit patterns are far from uniform): at 125k entries a query's words then hold 45k
    # postings instead of 1.4M (1%), p50 drops from 99 to 43 ms and recall@1 on five hard
    # transforms stays within one query of 300 (benchmarks/local_index.py measures it).
    cut = max(100, images // COMMON_WORD_SHARE)
    keypoint = [w[(counts[w] > 0) & (counts[w] <= cut)] for w in query.keypoint_words]
    global_ = [w[counts[w] > 0] for w in query.global_words]
    lists = postings.lists(F.unique_words(np.concatenate([*keypoint, *global_])))
    weights = np.log1p(images / np.maximum(counts[lists.words], 1))  # IDF, one per list

    def vote(words: list[np.ndarray], weighted: bool, n: int, floors: tuple[float, ...],
             also: list[int]) -> tuple[list[int], dict[int, tuple[float, float]]]:
        """Each side votes on its own (the query as is, then mirrored): the best ``n`` of
        both sides, and the two sides' votes for those and for the rowids in ``also``."""
        touched, sides = [], []
        try:
            for side, side_words in enumerate(words):
                rows, stored = lists.select(side_words)
                rowids = stored.astype(np.intp)  # once: indexing with uint32 is slow
                touched.append(rowids)
                votes = buffers.tally(side, rowids, np.repeat(weights[rows], lists.sizes[rows])
                                      if weighted else 1.0)
                if removed.size:
                    votes[removed[removed < len(votes)].astype(np.int64)] = 0
                sides.append((votes, _top(votes, n, floors, buffers.mask)))
            best = _best(n, *sides)
            asked = np.array(list(dict.fromkeys([*best, *also])), np.int64)
            straight, mirrored = (_at(votes, asked) for votes, _ in sides)
            return best, {int(r): (float(a), float(b))
                          for r, a, b in zip(asked, straight, mirrored, strict=True)}
        finally:
            for side, rowids in enumerate(touched):
                buffers.clear(side, rowids)

    by_appearance, _ = vote(global_, False, _GLOBAL_POOL, (2,), [])
    rare = float(np.log1p(images))  # the weight of a word on one image
    # at 1M images: about 65 images have votes above 2 * rare, about 19k above rare
    by_votes, votes = vote(keypoint, True, limit, (2 * rare, rare), [*exact, *by_appearance])
    wanted = list(dict.fromkeys([*exact, *by_votes, *by_appearance]))
    similarity = _similarities(conn, wanted, query.global_descs)

    appearance = sorted((r for r in by_appearance if r not in by_votes and r in similarity
                         and max(similarity[r]) > _GLOBAL_MIN),
                        key=lambda r: -max(similarity[r]))[:_GLOBAL_KEEP]
    exact_set = set(exact)
    out = []
    for rowid in dict.fromkeys([*exact, *by_votes, *appearance]):
        if rowid not in similarity:  # removed since its postings were written
            continue
        out.append(Candidate(rowid, votes[rowid], similarity[rowid], exact=rowid in exact_set))
    return out


def _similarities(conn: sqlite3.Connection, rowids: list[int],
                  query: np.ndarray) -> dict[int, tuple[float, float]]:
    """Cosine of each image's global descriptor with the query's two sides."""
    if not rowids:
        return {}
    marks = ",".join("?" * len(rowids))
    rows = conn.execute(f"SELECT rowid, global_desc FROM images WHERE rowid IN ({marks})",
                        rowids).fetchall()
    out = {}
    for rowid, blob in rows:
        cosine = query @ np.frombuffer(blob, np.float32)
        out[int(rowid)] = (float(cosine[0]), float(cosine[1]))
    return out
