"""The persisted inverted index of a local index: visual word -> images, in SQLite.

A search reads only the posting lists of the query's words (one row per word
and segment, found through the primary key), never the whole index, so the
first search after opening a million-image file is as fast as the next.

Writes append a *segment* (the postings of the images written in one
transaction). To keep the number of rows a query reads small, a new segment is
merged into the one before it while it holds at least half of that one's
postings: segment sizes then halve from oldest to newest (at most log2(N/batch)
segments, most of them too small to hold many of a query's words), and each
posting is rewritten O(log N) times in total. A bulk load can defer merging and
:meth:`PostingsIndex.compact` once at the end instead (one rewrite).

Removed images stay in old segments until a merge drops them; the ``removed``
table lets a query ignore them meanwhile. Per-word posting counts (for IDF
weights and to skip uninformative words) are one blob, read once per change.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from rir.engines.local.features import TOTAL_VOCABULARY, isin_words

__all__ = ["IN_MEMORY_POSTINGS", "PostingLists", "PostingsIndex"]

#: An index with at most this many postings (about 1,000 images; ~6 MB) keeps a copy of
#: its posting lists in memory, read in well under a second: reading a query's few
#: thousand lists from the file costs a few microseconds each, more than the rest of a
#: small index's candidate stage (250 images: 15 -> 3 ms).
IN_MEMORY_POSTINGS = 1_000_000

_MERGE_RATIO = 2  # merge a segment into its predecessor while it is >= 1/2 of its size
_KEY_SHIFT = 32  # postings.key = word << 32 | segment: one B-tree range per word


def _group(words: np.ndarray, rowids: np.ndarray) -> tuple[np.ndarray, np.ndarray, bytes]:
    """Unique words, their start offsets (plus the end) and all rowids grouped by word.

    Rowids within a word stay sorted (a stable sort of rowid-ordered input).
    """
    order = np.argsort(words, kind="stable")
    words, rowids = words[order], rowids[order]
    unique, starts = np.unique(words, return_index=True)
    bounds = np.append(starts, len(words))
    return unique, bounds, rowids.astype(np.uint32).tobytes()


class PostingsIndex:
    """Posting lists of one index database; every method runs inside the caller's lock.

    Writing methods must be called inside an open transaction.
    """

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self._counts: np.ndarray | None = None
        self._counts_generation = -1
        self._memory: _PostingsInMemory | None = None
        self._memory_generation, self._memory_decided = -1, False

    # -- writes (inside a transaction) --------------------------------------------------------

    def add(self, rowids: Sequence[int], words: Sequence[np.ndarray], *,
            merge: bool = True) -> None:
        """Append the words of newly stored images as a new segment, then merge as needed."""
        if not rowids:
            return
        order = np.argsort(np.asarray(rowids, np.int64), kind="stable")
        all_words = np.concatenate([words[i].astype(np.int64) for i in order])
        all_rowids = np.repeat(np.asarray(rowids, np.int64)[order],
                               [len(words[i]) for i in order])
        unique, bounds, data = _group(all_words, all_rowids)
        segment = int(self._conn.execute(
            "INSERT INTO segments (postings) VALUES (?)", (len(all_words),)).lastrowid or 0)
        self._write_lists(segment, unique, bounds, data)
        self._update_counts(unique, np.diff(bounds))
        if merge:
            self._merge_tail()

    def _write_lists(self, segment: int, words: np.ndarray, bounds: np.ndarray,
                     data: bytes) -> None:
        """One row per word: ``data[bounds[i]*4:bounds[i+1]*4]`` holds word i's rowids."""
        keys = ((words.astype(np.int64) << _KEY_SHIFT) | segment).tolist()
        edges = (bounds * 4).tolist()
        counts = np.diff(bounds).tolist()
        view = memoryview(data)
        self._conn.executemany(
            "INSERT INTO postings (key, count, rowids) VALUES (?, ?, ?)",
            ((keys[i], counts[i], view[edges[i]:edges[i + 1]]) for i in range(len(keys))),
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

    def _merge(self, *, older: int, newer: int, chunk: int = 5_000) -> None:
        """Fold segment ``newer`` into ``older`` (dropping removed images), a chunk at a time.

        ``older`` holds the smaller rowids (segments are written in rowid order), so
        concatenating a word's two lists keeps it sorted.
        """
        removed = self.removed()
        keys = [int(r[0]) for r in self._conn.execute(
            "SELECT key FROM postings WHERE (key & 4294967295) IN (?, ?) ORDER BY key",
            (older, newer))]
        total, start = 0, 0
        while start < len(keys):
            end = min(len(keys), start + chunk)
            while end < len(keys) and keys[end] >> _KEY_SHIFT == keys[end - 1] >> _KEY_SHIFT:
                end += 1  # a word's two rows stay in one chunk
            total += self._merge_keys(keys[start:end], older, removed)
            start = end
        self._conn.execute("UPDATE segments SET postings = ? WHERE id = ?", (total, older))
        self._conn.execute("DELETE FROM segments WHERE id = ?", (newer,))

    def _merge_keys(self, keys: list[int], older: int, removed: np.ndarray) -> int:
        marks = ",".join("?" * len(keys))
        rows = self._conn.execute(
            f"SELECT key, rowids FROM postings WHERE key IN ({marks}) ORDER BY key",
            keys).fetchall()
        self._conn.execute(f"DELETE FROM postings WHERE key IN ({marks})", keys)
        return self._rewrite(rows, older, removed)

    def _rewrite(self, rows: list[tuple[int, bytes]], target: int, removed: np.ndarray) -> int:
        """Write deleted rows back as one row per word in segment ``target``; postings kept."""
        words: list[int] = []
        blobs: list[bytes] = []
        for key, blob in rows:
            word = int(key) >> _KEY_SHIFT
            if words and words[-1] == word:
                blobs[-1] += blob
            else:
                words.append(word)
                blobs.append(bytes(blob))
        if removed.size:
            kept, dropped = [], []
            for blob in blobs:
                ids = np.frombuffer(blob, np.uint32)
                keep = ids[~np.isin(ids, removed)]
                dropped.append(len(ids) - len(keep))
                kept.append(keep.tobytes())
            blobs = kept
            if any(dropped):
                self._update_counts(np.array(words, np.int64), -np.array(dropped, np.int64))
        sizes = np.array([len(b) // 4 for b in blobs], np.int64)
        nonempty = np.flatnonzero(sizes)
        bounds = np.concatenate([[0], np.cumsum(sizes[nonempty])])
        self._write_lists(target, np.array(words, np.int64)[nonempty], bounds,
                          b"".join(blobs[i] for i in nonempty))
        return int(sizes.sum())

    def compact(self, words_per_step: int = 2048) -> None:
        """Merge every segment into the oldest one, a range of words at a time (one pass)."""
        segments = [int(r[0]) for r in self._conn.execute("SELECT id FROM segments ORDER BY id")]
        if len(segments) < 2:
            return
        removed, target, total = self.removed(), segments[0], 0
        for low in range(0, TOTAL_VOCABULARY, words_per_step):
            bounds = (low << _KEY_SHIFT, (low + words_per_step) << _KEY_SHIFT)
            rows = self._conn.execute("SELECT key, rowids FROM postings WHERE key >= ? AND "
                                      "key < ? ORDER BY key", bounds).fetchall()
            self._conn.execute("DELETE FROM postings WHERE key >= ? AND key < ?", bounds)
            total += self._rewrite(rows, target, removed)
        self._conn.execute("UPDATE segments SET postings = ? WHERE id = ?", (total, target))
        self._conn.execute("DELETE FROM segments WHERE id != ?", (target,))

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

    def lists(self, words: np.ndarray, generation: int | None = None) -> PostingLists:
        """Every posting list (one per word and segment) of ``words``.

        A small index (at most ``IN_MEMORY_POSTINGS``) is read from a copy in memory
        once the write counter ``generation`` has stayed the same for two reads; a
        bigger one, or one that changes between reads, from the file.
        """
        if len(words) == 0:
            return PostingLists.of_rows([])
        memory = self._in_memory(generation) if generation is not None else None
        if memory is not None:
            return memory.lists(words)
        rows = self._conn.execute(
            "SELECT p.key, p.count, p.rowids FROM json_each(?) AS j JOIN postings AS p "
            "ON p.key >= (j.value << 32) AND p.key < ((j.value + 1) << 32)",
            (json.dumps([int(w) for w in words]),)).fetchall()
        return PostingLists.of_rows(rows)

    def _in_memory(self, generation: int) -> _PostingsInMemory | None:
        if generation != self._memory_generation:  # changed: from the file, this once
            self._memory, self._memory_generation = None, generation
            self._memory_decided = False
            return None
        if not self._memory_decided:
            self._memory_decided = True
            if int(self.counts(generation).sum()) <= IN_MEMORY_POSTINGS:
                self._memory = _PostingsInMemory(self._conn.execute(
                    "SELECT key, count, rowids FROM postings ORDER BY key").fetchall())
        return self._memory


class _PostingsInMemory:
    """Every posting list of a small index: its keys (sorted), sizes and rowids."""

    def __init__(self, rows: list[tuple[int, int, bytes]]) -> None:
        self.keys, self.sizes, self.rowids = _checked(rows)
        self.starts = np.cumsum(self.sizes) - self.sizes

    def lists(self, words: np.ndarray) -> PostingLists:
        wanted = words.astype(np.int64)
        low = np.searchsorted(self.keys, wanted << _KEY_SHIFT)
        high = np.searchsorted(self.keys, (wanted + 1) << _KEY_SHIFT)
        rows = _ranges(low, high - low)
        return PostingLists(self.keys[rows] >> _KEY_SHIFT, self.sizes[rows], self.starts[rows],
                            self.rowids)


def _checked(rows: list[tuple[int, int, bytes]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Keys, sizes and the rowids (concatenated) of postings rows, each list checked against
    its stored length: a damaged file is a DatabaseError, never a numpy error mid-vote."""
    keys = np.array([r[0] if type(r[0]) is int else -1 for r in rows], np.int64)
    sizes = np.array([r[1] if type(r[1]) is int else -1 for r in rows], np.int64)
    blobs = [r[2] for r in rows]
    lengths = np.array([len(b) if type(b) is bytes else -1 for b in blobs], np.int64)
    if (lengths != sizes * 4).any() or (keys < 0).any():
        raise sqlite3.DatabaseError("a posting list does not match its stored length")
    return keys, sizes, np.frombuffer(b"".join(blobs), np.uint32)


def _ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """``starts[i] .. starts[i] + lengths[i]`` for every i, concatenated."""
    ends = np.cumsum(lengths)
    return np.repeat(starts - ends + lengths, lengths) + np.arange(int(ends[-1]) if len(ends)
                                                                   else 0)


@dataclass(frozen=True)
class PostingLists:
    """Posting lists read for one query: row ``i`` holds ``sizes[i]`` rowids of ``words[i]``,
    at ``starts[i]`` in ``rowids``."""

    words: np.ndarray
    sizes: np.ndarray
    starts: np.ndarray
    rowids: np.ndarray  # uint32

    @classmethod
    def of_rows(cls, rows: list[tuple[int, int, bytes]]) -> PostingLists:
        """From rows (key, count, rowids blob) of the postings table."""
        keys, sizes, rowids = _checked(rows)
        return cls(keys >> _KEY_SHIFT, sizes, np.cumsum(sizes) - sizes, rowids)

    def select(self, words: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(rows holding ``words``, the image rowids of those rows' postings, concatenated)."""
        rows = np.flatnonzero(isin_words(self.words, words))
        return rows, self.rowids[_ranges(self.starts[rows], self.sizes[rows])]
