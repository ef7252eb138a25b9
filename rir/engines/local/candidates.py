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

__all__ = ["Candidate", "QueryWords", "find_candidates", "query_words"]

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


def _top(values: np.ndarray, n: int) -> np.ndarray:
    """Positions of the ``n`` largest positive values, largest first (argpartition: O(len))."""
    positive = np.flatnonzero(values > 0)
    if len(positive) > n:
        positive = positive[np.argpartition(-values[positive], n)[:n]]
    return positive[np.argsort(-values[positive], kind="stable")]


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
) -> list[Candidate]:
    """Up to ``limit`` images by keypoint votes, plus near-identical ones, exact copies first."""
    if images <= 0:
        return []
    straight, mirrored = query.keypoint_words
    words = np.union1d(straight, mirrored)
    # A word found in more than 0.1% of the index carries little information but costs time
    # (ORB bit patterns are far from uniform): at 125k entries a query's words then hold 45k
    # postings instead of 1.4M (1%), p50 drops from 99 to 43 ms and recall@1 on five hard
    # transforms stays within one query of 300 (benchmarks/local_index.py measures it).
    words = words[(counts[words] > 0) & (counts[words] <= max(100, images // COMMON_WORD_SHARE))]
    global_side = np.union1d(*query.global_words)
    global_side = global_side[counts[global_side] > 0]
    word_of, rowid_of = postings.lists(np.concatenate([words, global_side]))

    side = np.zeros(F.TOTAL_VOCABULARY, np.uint8)  # bit 0: straight side has it, bit 1: mirrored
    side[np.intersect1d(words, straight)] |= 1
    side[np.intersect1d(words, mirrored)] |= 2
    side[query.global_words[0]] |= 4
    side[query.global_words[1]] |= 8
    size = int(rowid_of.max()) + 1 if len(rowid_of) else 1
    flags = side[word_of]
    weights = np.log1p(images / np.maximum(counts[word_of], 1))

    def tally(bit: int, weighted: bool) -> np.ndarray:
        # Dense over every rowid: at 1M images each array is 8 MB, so no copies, no stacking
        # (np.stack + max(axis=1) and an astype copy were half of a warm query's time).
        mask = (flags & bit) > 0
        votes = np.bincount(rowid_of[mask], weights=weights[mask] if weighted else None,
                            minlength=size)
        if removed.size:
            votes[removed[removed < size].astype(np.int64)] = 0
        return votes

    straight_votes, mirrored_votes = tally(1, True), tally(2, True)
    global_votes = np.maximum(tally(4, False), tally(8, False))
    by_votes = [int(r) for r in _top(np.maximum(straight_votes, mirrored_votes), limit)]
    by_appearance = [int(r) for r in _top(global_votes, _GLOBAL_POOL)]
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
        vote = ((float(straight_votes[rowid]), float(mirrored_votes[rowid])) if rowid < size
                else (0.0, 0.0))
        out.append(Candidate(rowid, vote, similarity[rowid], exact=rowid in exact_set))
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
