"""Where a verified match sits: the matched box in the query and in the indexed image.

Geometric verification finds the similarity transform that maps the query's points
onto the indexed image's (both in normalised pixels). Mapping each picture's outline
through it and intersecting them gives the part the two share: its bounding box in the
image searched (``query_box``, in that image's pixels even when a region of it was
searched) and in the indexed image (``indexed_box``), and the share of each picture it
covers (``query_overlap``, ``indexed_overlap``): a photo pasted small into a page matches
a little of the query and all of the indexed photo, a crop the reverse.
"""

from __future__ import annotations

import math
from typing import Any

import cv2
import numpy as np

from rir.engines.local.features import Frame, normalised_size

__all__ = ["placement"]


def _rectangle(width: float, height: float) -> np.ndarray:
    return np.array([[0, 0], [width, 0], [width, height], [0, height]], np.float32)


def _apply(transform: np.ndarray, points: np.ndarray) -> np.ndarray:
    return (points @ transform[:, :2].T + transform[:, 2]).astype(np.float32)


def _box(points: np.ndarray, limit: tuple[float, float, float, float]) -> list[int]:
    """The bounding box of ``points`` in whole pixels, inside ``limit`` (x1, y1, x2, y2)."""
    x1 = max(limit[0], math.floor(float(points[:, 0].min()) + 1e-6))
    y1 = max(limit[1], math.floor(float(points[:, 1].min()) + 1e-6))
    x2 = min(limit[2], math.ceil(float(points[:, 0].max()) - 1e-6))
    y2 = min(limit[3], math.ceil(float(points[:, 1].max()) - 1e-6))
    return [int(x1), int(y1), int(max(x2, x1 + 1)), int(max(y2, y1 + 1))]


def placement(transform: np.ndarray, *, mirrored: bool, frame: Frame,
              indexed_size: tuple[int, int]) -> dict[str, Any]:
    """``query_box``, ``indexed_box``, ``query_overlap`` and ``indexed_overlap`` of a match.

    ``transform``: 2x3, the query's normalised pixels (as is, or mirrored when
    ``mirrored``) -> the indexed image's normalised pixels; ``frame``: where the query
    lies in the image searched; ``indexed_size``: the indexed image's width and height.
    Empty when the two outlines do not meet (a degenerate transform): no box is better
    than a wrong one.
    """
    query_width, query_height = frame.extent
    width, height = indexed_size
    norm_width, norm_height = normalised_size(width, height)
    try:
        inverse = cv2.invertAffineTransform(transform.astype(np.float64))
    except cv2.error:
        return {}
    searched = _rectangle(query_width, query_height)
    indexed_in_query = _apply(inverse, _rectangle(norm_width, norm_height))
    area, shared = cv2.intersectConvexConvex(searched, indexed_in_query)
    if shared is None or area <= 0 or query_width * query_height <= 0:
        return {}
    shared = shared.reshape(-1, 2)
    scale = float(np.hypot(transform[0, 0], transform[1, 0]))  # of areas: its square
    in_indexed = _apply(transform, shared) * np.array([width / norm_width,
                                                       height / norm_height], np.float32)
    return {
        "query_box": _box(frame.to_image(shared, mirrored), frame.box),
        "indexed_box": _box(in_indexed, (0, 0, width, height)),
        "query_overlap": round(min(1.0, area / (query_width * query_height)), 4),
        "indexed_overlap": round(min(1.0, area * scale * scale / (norm_width * norm_height)), 4),
    }
