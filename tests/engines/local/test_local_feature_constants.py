"""The local engine's fixed random constants are the draws they say they are.

Index files hold words made with them, so they must never change; features.py keeps them
written out (no numpy.random at start-up), and this draws them again.
"""

from __future__ import annotations

import numpy as np

from rir.engines.local import features as F


def test_the_lsh_bit_positions_are_the_legacy_generators_draws() -> None:
    drawn = np.stack([np.random.RandomState(20261127 + t).choice(256, F.LSH_BITS, replace=False)
                      for t in range(F.LSH_TABLES)])
    assert np.array_equal(F._LSH_POSITIONS, drawn) and F._LSH_POSITIONS.dtype == drawn.dtype


def test_the_stored_global_planes_are_the_legacy_generators_draws() -> None:
    drawn = np.random.RandomState(20261202).normal(
        size=(F.GLOBAL_TABLES * F.GLOBAL_BITS, F.GLOBAL_DIM)).astype(np.float32)
    assert F._GLOBAL_PLANES.dtype == np.float32 and F._GLOBAL_PLANES.shape == drawn.shape
    assert np.array_equal(F._GLOBAL_PLANES, drawn)  # bit for bit
