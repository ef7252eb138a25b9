"""Optional embedding vectors (``LocalIndex(embedder=...)``), held in memory for cosine search.

Only indexes built with an embedder have them; they are loaded on first use and
then incrementally (a removal reloads them), following other processes' writes.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from rir.engines.local.backends import IndexBackend

__all__ = ["EmbeddingMatrix"]


class EmbeddingMatrix:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rowids = np.zeros(0, np.int64)
        self._matrix: np.ndarray | None = None
        self._versions = (-1, -1)

    def _sync(self, store: IndexBackend) -> None:
        generation, deletions = store.versions()
        if (generation, deletions) == self._versions:
            return
        if deletions != self._versions[1]:
            self._rowids, self._matrix = np.zeros(0, np.int64), None
        after = int(self._rowids[-1]) if len(self._rowids) else 0
        rowids, vectors = store.embeddings(after)
        if len(rowids):
            dim = len(vectors[0]) if self._matrix is None else self._matrix.shape[1]
            rows = np.zeros((len(vectors), dim), np.float32)
            for i, vector in enumerate(vectors):
                norm = float(np.linalg.norm(vector))
                if len(vector) == dim and norm > 0:  # a vector of another size cannot compare
                    rows[i] = vector / norm
            self._matrix = rows if self._matrix is None else np.vstack([self._matrix, rows])
            self._rowids = np.concatenate([self._rowids, rowids])
        self._versions = (generation, deletions)

    def nearest(self, store: IndexBackend, query: np.ndarray, *, exclude: set[int], k: int,
                min_similarity: float) -> list[tuple[int, float]]:
        """Up to ``k`` (rowid, cosine) at or above ``min_similarity``, best first."""
        with self._lock:
            self._sync(store)
            if self._matrix is None or self._matrix.shape[1] != len(query):
                return []
            norm = float(np.linalg.norm(query))
            similarities = self._matrix @ (query / norm if norm > 0 else query)
            rowids = self._rowids
        out = []
        for i in np.argsort(-similarities)[: k + len(exclude)]:
            rowid = int(rowids[i])
            if rowid not in exclude and similarities[i] >= min_similarity:
                out.append((rowid, round(float(similarities[i]), 4)))
        return out[:k]
