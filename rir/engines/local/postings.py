"""The persisted inverted index of a local index: visual word -> images, in SQLite.

A search reads only the posting lists of the query's words (one row per word
and segment, found through the primary key), never the whole index, so the
first search after opening a million-image file is as fast as the next.

Writes append a *segment* (the postings of the images written in one
transaction). To keep the number of rows a query reads small, a new segment is
merged into the one before it while it holds at least an eighth of that one's
postings: segment sizes then fall geometrically from oldest to newest (about
log8(N) segments), and each posting is rewritten O(log N) times in total.

Removed images stay in old segments until a merge drops them; the ``removed``
table lets a query ignore them meanwhile. Per-word posting counts (for IDF
weights and to skip uninformative words) are one blob, read once per change.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence

import numpy as np

from rir.engines.local.features import TOTAL_VOCABULARY

__all__ = ["PostingsIndex"]

_MERGE_RATIO = 8  # merge a segment into its predecessor while it is >= 1/8 of its size
_KEY_SHIFT = 32  # postings.key = word << 32 | segment: one B-tree range per word


def _group(words: np.ndarray, rowids: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """Unique words and, for each, the sorted image rowids having it."""
    order = np.lexsort((rowids, words))
    words, rowids = words[order], rowids[order]
    unique, starts = np.unique(words, return_index=True)
    return unique, np.split(rowids, starts[1:])


class PostingsIndex:
    """Posting lists of one index database; every method runs inside the caller's lock.

    Writing methods must be called inside an open transaction.
    """

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self._counts: np.ndarray | None = None
        self._counts_generation = -1

    # -- writes (inside a transaction) --------------------------------------------------------

    def add(self, rowids: Sequence[int], words: Sequence[np.ndarray]) -> None:
        """Append the words of newly stored images as a new segment, then merge as needed."""
        if not rowids:
            return
        all_words = np.concatenate([w.astype(np.int64) for w in words])
        all_rowids = np.repeat(np.asarray(rowids, np.int64), [len(w) for w in words])
        unique, lists = _group(all_words, all_rowids)
        segment = int(self._conn.execute(
            "INSERT INTO segments (postings) VALUES (?)", (len(all_words),)).lastrowid or 0)
        self._write_lists(segment, unique, lists)
        self._update_counts(unique, np.array([len(x) for x in lists], np.int64))
        self._merge_tail()

    def _write_lists(self, segment: int, words: np.ndarray, lists: list[np.ndarray]) -> None:
        self._conn.executemany(
            "INSERT INTO postings (key, count, rowids) VALUES (?, ?, ?)",
            (((int(w) << _KEY_SHIFT) | segment, len(ids), ids.astype(np.uint32).tobytes())
             for w, ids in zip(words, lists, strict=True)),
        )

    def _update_counts(self, words: np.ndarray, delta: np.ndarray) -> None:
        counts = self._stored_counts()
        np.add.at(counts, words, delta)
        self._conn.execute("INSERT OR REPLACE INTO word_counts (id, counts) VALUES (1, ?)",
                           (counts.astype(np.int32).tobytes(),))
        self._counts = None  # re-read after commit; another writer may interleave

    def _stored_counts(self) -> np.ndarray:
        row = self._conn.execute("SELECT counts FROM word_counts WHERE id = 1").fetchone()
        if row is None:
            return np.zeros(TOTAL_VOCABULARY, np.int64)
        return np.frombuffer(row[0], np.int32).astype(np.int64)

    def _merge_tail(self) -> None:
        while True:
            tail = self._conn.execute(
                "SELECT id, postings FROM segments ORDER BY id DESC LIMIT 2").fetchall()
            if len(tail) < 2 or tail[0][1] * _MERGE_RATIO < tail[1][1]:
                return
            self._merge(older=int(tail[1][0]), newer=int(tail[0][0]))

    def _merge(self, *, older: int, newer: int) -> None:
        """Fold segment ``newer`` into ``older`` (dropping removed images)."""
        removed = self.removed()
        rows = self._conn.execute(
            "SELECT key, rowids FROM postings WHERE (key & 4294967295) IN (?, ?)",
            (older, newer)).fetchall()
        by_word: dict[int, list[bytes]] = {}
        for key, blob in rows:
            by_word.setdefault(int(key) >> _KEY_SHIFT, []).append(blob)
        self._conn.execute("DELETE FROM postings WHERE (key & 4294967295) IN (?, ?)",
                           (older, newer))
        words = np.fromiter(by_word, np.int64, len(by_word))
        lists, dropped, total = [], np.zeros(len(words), np.int64), 0
        for i, word in enumerate(words.tolist()):
            ids = np.frombuffer(b"".join(by_word[word]), np.uint32)
            if removed.size:
                keep = ~np.isin(ids, removed)
                dropped[i] = len(ids) - int(keep.sum())
                ids = ids[keep]
            lists.append(np.sort(ids))
            total += len(ids)
        nonempty = [i for i, ids in enumerate(lists) if len(ids)]
        self._write_lists(older, words[nonempty], [lists[i] for i in nonempty])
        self._conn.execute("UPDATE segments SET postings = ? WHERE id = ?", (total, older))
        self._conn.execute("DELETE FROM segments WHERE id = ?", (newer,))
        if dropped.any():
            self._update_counts(words, -dropped)

    def forget(self, rowids: Sequence[int]) -> None:
        """Mark removed images so queries skip them until a merge drops their postings."""
        self._conn.executemany("INSERT OR IGNORE INTO removed (rowid) VALUES (?)",
                               [(int(r),) for r in rowids])

    # -- reads --------------------------------------------------------------------------------

    def removed(self) -> np.ndarray:
        return np.array([r[0] for r in self._conn.execute("SELECT rowid FROM removed")],
                        np.uint32)

    def counts(self, generation: int) -> np.ndarray:
        """Postings per word (cached until the index's write counter changes)."""
        if self._counts is None or generation != self._counts_generation:
            self._counts = self._stored_counts()
            self._counts_generation = generation
        return self._counts

    def lists(self, words: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(word per posting, image rowid per posting) for every posting of ``words``."""
        if len(words) == 0:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        rows = self._conn.execute(
            "SELECT p.key, p.count, p.rowids FROM json_each(?) AS j JOIN postings AS p "
            "ON p.key >= (j.value << 32) AND p.key < ((j.value + 1) << 32)",
            (json.dumps([int(w) for w in words]),)).fetchall()
        if not rows:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        rowids = np.frombuffer(b"".join(r[2] for r in rows), np.uint32).astype(np.int64)
        per_row = np.repeat(np.array([int(r[0]) >> _KEY_SHIFT for r in rows], np.int64),
                            [int(r[1]) for r in rows])
        return per_row, rowids
