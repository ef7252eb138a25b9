"""An indexed image's features rebuilt from what a backend stores (for copying an index)."""

from __future__ import annotations

import numpy as np

from rir.engines.local import features as F

__all__ = ["stored_features"]


def stored_features(global_desc: np.ndarray, points: np.ndarray,
                    descriptors: np.ndarray) -> F.IndexFeatures:
    """The words are not stored with an image: they derive from its first WORD_KEYPOINTS
    descriptors (what extract_index_features does), so they are recomputed here."""
    return F.IndexFeatures(global_desc=global_desc, points=points, descriptors=descriptors,
                           words=F.lsh_words(descriptors[:F.WORD_KEYPOINTS]))
