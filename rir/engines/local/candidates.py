"""In-memory candidate search for the local index.

Holds, for every indexed image, its global descriptor (a dense matrix) and its
LSH words (an inverted index in CSR form: ``offsets[word]..offsets[word+1]``
slices ``postings``, the positions of the images that have the word). New
entries land in a small unsorted delta that is merged into the CSR arrays once
it grows, so adding images one by one stays cheap.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from rir.engines.local.features import GLOBAL_DIM, VOCABULARY_SIZE

__all__ = ["CandidateIndex"]

_MERGE_AT = 200_000  # delta postings before a merge (or 20% of the main arrays)


class CandidateIndex:
    def __init__(self) -> None:
        self.rowids = np.zeros(0, np.int64)
        self.globals = np.zeros((0, GLOBAL_DIM), np.float32)
        self.embeddings: np.ndarray | None = None
        self._offsets = np.zeros(VOCABULARY_SIZE + 1, np.int64)
        self._postings = np.zeros(0, np.int32)
        self._delta_words: list[np.ndarray] = []
        self._delta_positions: list[np.ndarray] = []
        self._delta_size = 0

    def __len__(self) -> int:
        return len(self.rowids)

    def extend(
        self,
        rowids: np.ndarray,
        globals_: np.ndarray,
        words: Sequence[np.ndarray],
        embeddings: Sequence[np.ndarray | None] = (),
    ) -> None:
        start = len(self.rowids)
        self.rowids = np.concatenate([self.rowids, rowids.astype(np.int64)])
        self.globals = np.vstack([self.globals, globals_.astype(np.float32)])
        for offset, entry_words in enumerate(words):
            self._delta_words.append(entry_words.astype(np.uint32))
            self._delta_positions.append(np.full(len(entry_words), start + offset, np.int32))
            self._delta_size += len(entry_words)
        self._extend_embeddings(start, embeddings)
        if self._delta_size > max(_MERGE_AT, len(self._postings) // 5):
            self._merge()

    def _extend_embeddings(self, start: int, embeddings: Sequence[np.ndarray | None]) -> None:
        vectors = list(embeddings)
        if not any(v is not None for v in vectors) and self.embeddings is None:
            return
        dim = next((len(v) for v in vectors if v is not None),
                   self.embeddings.shape[1] if self.embeddings is not None else 0)
        matrix = self.embeddings if self.embeddings is not None else np.zeros((start, dim),
                                                                              np.float32)
        rows = np.zeros((len(vectors), dim), np.float32)
        for i, vector in enumerate(vectors):
            if vector is not None and len(vector) == dim:
                norm = float(np.linalg.norm(vector))
                rows[i] = vector / norm if norm > 0 else vector
        self.embeddings = np.vstack([matrix, rows])

    def _merge(self) -> None:
        if not self._delta_words:
            return
        main_words = np.repeat(np.arange(VOCABULARY_SIZE, dtype=np.uint32), np.diff(self._offsets))
        words = np.concatenate([main_words, *self._delta_words])
        positions = np.concatenate([self._postings, *self._delta_positions])
        order = np.argsort(words, kind="stable")
        self._postings = positions[order]
        counts = np.bincount(words, minlength=VOCABULARY_SIZE)
        self._offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        self._delta_words, self._delta_positions, self._delta_size = [], [], 0

    def lsh_votes(self, query_words: np.ndarray) -> np.ndarray:
        """IDF-weighted count of shared LSH words, per indexed image."""
        n = len(self.rowids)
        votes = np.zeros(n, np.float64)
        if n == 0 or len(query_words) == 0:
            return votes
        query_words = query_words.astype(np.int64)
        starts = self._offsets[query_words]
        counts = self._offsets[query_words + 1] - starts
        # A word found in more than 1% of the index carries little information but costs
        # time (ORB bit patterns are far from uniform); measured at 60k entries, skipping
        # them halves the query time and changes no result.
        useful = (counts > 0) & (counts <= max(100, n // 100))
        starts, counts = starts[useful], counts[useful]
        if len(counts):
            total = int(counts.sum())
            shifts = np.repeat(starts - (np.cumsum(counts) - counts), counts)
            positions = self._postings[np.arange(total) + shifts]
            weights = np.repeat(np.log1p(n / counts), counts)
            votes += np.bincount(positions, weights=weights, minlength=n)
        if self._delta_words:
            delta_words = np.concatenate(self._delta_words)
            delta_positions = np.concatenate(self._delta_positions)
            mask = np.isin(delta_words, query_words)
            if mask.any():
                matched = delta_words[mask].astype(np.int64)
                frequency = self._offsets[matched + 1] - self._offsets[matched] + 1
                votes += np.bincount(delta_positions[mask], weights=np.log1p(n / frequency),
                                     minlength=n)
        return votes

    def global_similarities(self, query: np.ndarray) -> np.ndarray:
        """Cosine similarity of every indexed image with each query descriptor: [n, q]."""
        if len(self.rowids) == 0:
            return np.zeros((0, len(query)), np.float32)
        return self.globals @ query.T

    def embedding_similarities(self, query: np.ndarray) -> np.ndarray | None:
        if self.embeddings is None or self.embeddings.shape[1] != len(query):
            return None
        norm = float(np.linalg.norm(query))
        return self.embeddings @ (query / norm if norm > 0 else query)
