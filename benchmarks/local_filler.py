"""Synthetic filler entries for large local-index benchmarks (no image decoding).

Each filler entry takes its keypoints from a random mix of real photos (so its
descriptors have real ORB statistics) with a few bits flipped, and a global
descriptor blended from two photos plus noise: realistic distractors, not
near-copies of any one photo. Used by both the current engine and the previous
one (``benchmarks/local_legacy.py``), so they are measured on the same entries.
Only needs ``rir.engines.local.features`` names that both versions have.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from rir.engines.local import features as F

__all__ = ["filler_batches"]


def _batch_words(descriptors: np.ndarray) -> np.ndarray:
    """``F.lsh_words`` for a batch [b, n, 32] at once (before the per-entry unique)."""
    words = np.zeros((*descriptors.shape[:2], F.LSH_TABLES), np.uint32)
    for table, positions in enumerate(F._LSH_POSITIONS):
        for bit, position in enumerate(positions):  # unpackbits order: most significant first
            byte = descriptors[:, :, position // 8]
            words[:, :, table] |= ((byte >> (7 - position % 8)) & 1).astype(np.uint32) << bit
        words[:, :, table] += np.uint32(table << F.LSH_BITS)
    return words.reshape(len(descriptors), -1)


def filler_batches(sources: list[F.IndexFeatures], count: int, seed: int,
                   batch: int = 2000) -> Iterator[list[F.IndexFeatures]]:
    """``count`` filler feature sets, in batches, deterministic for a seed."""
    rng = np.random.default_rng(seed)
    pool_points = np.concatenate([s.points for s in sources]).astype(np.float32)
    pool_descriptors = np.concatenate([s.descriptors for s in sources])
    globals_ = np.stack([s.global_desc for s in sources])
    made = 0
    while made < count:
        size = min(batch, count - made)
        # With replacement: at ~75k pooled keypoints an entry repeats one about every other
        # entry, which changes nothing measurable and makes a million entries affordable.
        pick = rng.integers(0, len(pool_descriptors), (size, F.STORED_KEYPOINTS))
        descriptors = pool_descriptors[pick]
        flat = descriptors.reshape(-1)  # 5% of the bytes get a random non-zero XOR
        flips = rng.integers(0, flat.size, rng.binomial(flat.size, 0.05))
        flat[flips] ^= rng.integers(1, 256, len(flips), dtype=np.uint8)
        pairs = rng.integers(0, len(sources), (size, 2))
        blended = globals_[pairs[:, 0]] + globals_[pairs[:, 1]]
        blended = blended + rng.normal(0, 0.2, blended.shape)
        blended /= np.linalg.norm(blended, axis=1, keepdims=True)
        words = np.sort(_batch_words(descriptors[:, : F.WORD_KEYPOINTS]), axis=1)
        first = np.ones(words.shape, bool)  # np.unique per row, vectorised
        first[:, 1:] = words[:, 1:] != words[:, :-1]
        out = []
        for i in range(size):
            out.append(F.IndexFeatures(
                global_desc=blended[i].astype(np.float32),
                points=pool_points[pick[i]],
                descriptors=descriptors[i],
                words=words[i][first[i]],
            ))
        made += size
        yield out
