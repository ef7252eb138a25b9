"""Near-duplicate image features: no model weights, only Pillow, numpy and OpenCV.

Each image is normalised to about 200k grey pixels and described three ways:

* a **global descriptor**: the 63 lowest 2-D DCT coefficients of a 32x32
  thumbnail (DC dropped, L2-normalised). Robust to resizing, re-encoding,
  brightness, contrast and grayscale; used for near-identical copies.
* **ORB keypoints** (positions + 256-bit descriptors), used to verify a
  candidate geometrically (RANSAC similarity transform). This is what survives
  crops, small rotations, caption bands and watermarks.
* **LSH words**: for the strongest keypoints, 16 fixed bits of the descriptor
  in each of several tables. Copies of the same picture share many words, so
  an inverted index over words finds candidates without comparing every image.

Mirrored copies are handled by describing the query twice (as is and flipped; the
two run side by side on two cores).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageOps

from rir._runtime import beside

__all__ = [
    "FEATURE_VERSION",
    "Frame",
    "IndexFeatures",
    "QueryFeatures",
    "Verification",
    "describe_region",
    "extract_index_features",
    "extract_query_features",
    "geometric_score",
    "global_score",
    "global_words",
    "grey_image",
    "index_words",
    "isin_words",
    "lsh_words",
    "normalised_size",
    "unique_words",
    "verify",
]

FEATURE_VERSION = "orb-lsh6x16-dct8-v2"
WORK_AREA = 200_000  # pixels of the normalised grey image
MAX_SIDE = 1024
QUERY_KEYPOINTS = 500
REGION_KEYPOINTS = 300  # a region of a query is described with this many points...
REGION_AREA = 100_000  # ...on this many pixels (see describe_region)
STORED_KEYPOINTS = 300
WORD_KEYPOINTS = 150
LSH_TABLES = 6
LSH_BITS = 16
MIN_SCALE, MAX_SCALE = 0.3, 3.0  # plausible query->index scale of a verified match
DCT_SIZE = 32
DCT_KEEP = 8
GLOBAL_DIM = DCT_KEEP * DCT_KEEP - 1

# Fixed bit positions per table: np.random.RandomState(20261127 + t).choice(256, LSH_BITS,
# replace=False) for table t. RandomState is numpy's frozen legacy generator, so these never
# change (indexes stay valid; FEATURE_VERSION guards the rest). Written out, as the global
# planes below are stored, so that a search never loads numpy.random (13 ms of a fresh
# process); tests/engines/local/test_local_feature_constants.py draws both again.
_LSH_POSITIONS = np.array([
    (201, 231, 104, 232, 204, 79, 199, 52, 10, 58, 237, 125, 40, 99, 9, 50),
    (184, 143, 118, 96, 163, 103, 86, 139, 54, 231, 65, 64, 48, 85, 11, 208),
    (67, 49, 81, 128, 106, 184, 175, 174, 1, 222, 233, 34, 63, 91, 209, 232),
    (172, 188, 19, 9, 235, 177, 232, 45, 59, 60, 16, 251, 238, 247, 65, 106),
    (250, 145, 136, 148, 214, 177, 2, 21, 4, 200, 81, 218, 115, 150, 154, 114),
    (167, 128, 117, 196, 55, 159, 189, 30, 138, 19, 191, 219, 76, 141, 233, 172),
], np.int64)
_LSH_WEIGHTS = (1 << np.arange(LSH_BITS, dtype=np.uint32)).astype(np.uint32)
_TABLE_OFFSETS = (np.arange(LSH_TABLES, dtype=np.uint32) << LSH_BITS)[None, :]
VOCABULARY_SIZE = LSH_TABLES << LSH_BITS

# Words for the global descriptor too (random-hyperplane LSH, 16 tables of 10 sign bits), so
# the near-identical-appearance fallback is an inverted-index lookup, not a scan of every
# descriptor. A copy at cosine 0.96 (the least that scores) shares a table's word with
# probability 0.39, at least one of 16 with probability 0.9996.
GLOBAL_TABLES = 16
GLOBAL_BITS = 10
# The hyperplanes: np.random.RandomState(20261202).normal(size=(GLOBAL_TABLES * GLOBAL_BITS,
# GLOBAL_DIM)) as float32, stored beside this module.
_GLOBAL_PLANES = np.load(Path(__file__).with_name("global_planes.npy"), allow_pickle=False)
_GLOBAL_OFFSETS = VOCABULARY_SIZE + (np.arange(GLOBAL_TABLES, dtype=np.int64) << GLOBAL_BITS)
TOTAL_VOCABULARY = VOCABULARY_SIZE + (GLOBAL_TABLES << GLOBAL_BITS)
WORDS_VERSION = "lsh6x16+srp16x10-v1"  # what the postings hold: changing it needs a rebuild


def _dct_matrix(n: int) -> np.ndarray:
    k = np.arange(n)[:, None]
    i = np.arange(n)[None, :]
    matrix = np.cos(np.pi * (2 * i + 1) * k / (2 * n)) * np.sqrt(2 / n)
    matrix[0] /= np.sqrt(2)
    return matrix.astype(np.float32)


_DCT = _dct_matrix(DCT_SIZE)


@dataclass(frozen=True)
class IndexFeatures:
    global_desc: np.ndarray  # float32 [GLOBAL_DIM]
    points: np.ndarray  # float32 [n, 2]
    descriptors: np.ndarray  # uint8 [n, 32]
    words: np.ndarray  # uint32 [m], unique


@dataclass(frozen=True)
class Frame:
    """Where a described query lies in the image searched: ``box`` (the image's pixels,
    the whole image or a region of it) and the normalised pixels per image pixel."""

    box: tuple[int, int, int, int]
    scale_x: float
    scale_y: float

    @property
    def extent(self) -> tuple[float, float]:
        """Width and height of the described query, in normalised pixels."""
        x1, y1, x2, y2 = self.box
        return (x2 - x1) * self.scale_x, (y2 - y1) * self.scale_y

    def to_image(self, points: np.ndarray, mirrored: bool) -> np.ndarray:
        """Normalised points of the query as is (or mirrored) -> the image's pixels."""
        x1, y1, x2, _ = self.box
        xs = points[:, 0] / self.scale_x
        return np.stack([x2 - xs if mirrored else x1 + xs, y1 + points[:, 1] / self.scale_y],
                        axis=1)


@dataclass(frozen=True)
class QueryFeatures:
    """The query described as is (index 0) and mirrored (index 1)."""

    global_descs: np.ndarray  # float32 [2, GLOBAL_DIM]
    points: tuple[np.ndarray, np.ndarray]
    descriptors: tuple[np.ndarray, np.ndarray]
    shape: tuple[int, int]
    frame: Frame | None = None  # None: where it lies is unknown (no boxes for its hits)


@dataclass(frozen=True)
class Verification:
    inliers: int
    spread: float  # area of the inliers' hull / area of all query keypoints' hull
    #: The similarity transform (2x3, query -> indexed image, normalised pixels) the
    #: inliers agree on; None when no plausible one was found.
    transform: np.ndarray | None = None

    @property
    def effective_inliers(self) -> float:
        # A logo or watermark shared by unrelated photos matches in a tiny area; scale it down.
        return self.inliers * min(1.0, self.spread / 0.15)


def grey_image(image: Image.Image) -> Image.Image:
    """The first frame in grey, transparency flattened onto white."""
    if getattr(image, "n_frames", 1) > 1:
        image.seek(0)
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, rgba)
    return image.convert("L")


def _normalising_scale(width: int, height: int) -> float:
    return min((WORK_AREA / max(1, width * height)) ** 0.5, MAX_SIDE / max(width, height))


def normalised_size(width: int, height: int) -> tuple[int, int]:
    """(width, height) of an image of this size once normalised: about WORK_AREA pixels."""
    scale = _normalising_scale(width, height)
    return max(8, round(width * scale)), max(8, round(height * scale))


def normalise(image: Image.Image) -> np.ndarray:
    """Grey uint8 array of about WORK_AREA pixels (upscaled or downscaled)."""
    grey = grey_image(image)
    width, height = grey.size
    size, scale = normalised_size(width, height), _normalising_scale(width, height)
    if size != grey.size:
        method = Image.Resampling.BICUBIC if scale > 1 else Image.Resampling.BILINEAR
        grey = grey.resize(size, method, reducing_gap=3.0 if scale < 0.5 else None)
    return np.asarray(grey, dtype=np.uint8)


def _global_descriptor(grey: np.ndarray) -> np.ndarray:
    small = cv2.resize(grey.astype(np.float32), (DCT_SIZE, DCT_SIZE), interpolation=cv2.INTER_AREA)
    coefficients = _DCT @ small @ _DCT.T
    vector = coefficients[:DCT_KEEP, :DCT_KEEP].reshape(-1)[1:]
    norm = float(np.linalg.norm(vector))
    return (vector / norm if norm > 1e-6 else vector).astype(np.float32)


_detectors = threading.local()  # one ORB per thread and budget: creating one costs ~1 ms


def _orb(grey: np.ndarray, n_features: int) -> tuple[np.ndarray, np.ndarray]:
    cache = _detectors.__dict__
    if n_features not in cache:
        cache[n_features] = cv2.ORB_create(nfeatures=n_features, fastThreshold=12)
    keypoints, descriptors = cache[n_features].detectAndCompute(grey, None)
    if descriptors is None or not keypoints:
        return np.zeros((0, 2), np.float32), np.zeros((0, 32), np.uint8)
    order = np.argsort([-kp.response for kp in keypoints], kind="stable")
    points = np.array([keypoints[i].pt for i in order], dtype=np.float32)
    return points, descriptors[order]


def unique_words(words: np.ndarray) -> np.ndarray:
    """The distinct values of a 1-D array of words, sorted.

    ``np.unique`` without its masked-array check: that check imports ``numpy.ma`` on first
    use, about a tenth of a cold ``rir index search``.
    """
    ordered = np.sort(words)
    if len(ordered) < 2:
        return ordered
    return ordered[np.concatenate(([True], ordered[1:] != ordered[:-1]))]


def isin_words(values: np.ndarray, words: np.ndarray) -> np.ndarray:
    """Which of ``values`` are among ``words`` (``np.isin``, without numpy.ma either)."""
    ordered = unique_words(words)
    if len(ordered) == 0:
        return np.zeros(len(values), bool)
    at = np.minimum(np.searchsorted(ordered, values), len(ordered) - 1)
    return ordered[at] == values


def lsh_words(descriptors: np.ndarray) -> np.ndarray:
    """Unique LSH words (table id in the high bits) of ORB descriptors."""
    if len(descriptors) == 0:
        return np.zeros(0, np.uint32)
    bits = np.unpackbits(descriptors, axis=1)[:, _LSH_POSITIONS]  # [n, tables, bits]
    words = bits.astype(np.uint32) @ _LSH_WEIGHTS + _TABLE_OFFSETS
    return unique_words(words.reshape(-1))


def global_words(descriptor: np.ndarray) -> np.ndarray:
    """The global descriptor's LSH words, one per table (ids above the keypoint words)."""
    bits = (_GLOBAL_PLANES @ descriptor.astype(np.float32) > 0).reshape(GLOBAL_TABLES, GLOBAL_BITS)
    return bits.astype(np.int64) @ (1 << np.arange(GLOBAL_BITS, dtype=np.int64)) + _GLOBAL_OFFSETS


def index_words(features: IndexFeatures) -> np.ndarray:
    """Every word an indexed image is posted under: keypoint words, then global words."""
    return np.concatenate([features.words.astype(np.int64), global_words(features.global_desc)])


def _spread_order(points: np.ndarray, shape: tuple[int, int], grid: int = 4) -> np.ndarray:
    """Reorder strongest-first keypoints so any prefix covers the whole picture.

    The strongest keypoints cluster on textured areas; a crop that cuts one away
    would take most of a strongest-first prefix with it. Interleaving the cells of
    a ``grid`` x ``grid`` partition (each cell's best, then each cell's second...)
    keeps what is stored evenly spread, so a crop keeps its share.
    """
    if len(points) == 0:
        return np.zeros(0, np.int64)
    height, width = shape
    cells = (np.minimum(points[:, 1] * grid // max(height, 1), grid - 1) * grid
             + np.minimum(points[:, 0] * grid // max(width, 1), grid - 1)).astype(np.int64)
    rank_in_cell = np.zeros(len(points), np.int64)
    seen: dict[int, int] = {}
    for i, cell in enumerate(cells):  # points are strongest first
        rank_in_cell[i] = seen.get(int(cell), 0)
        seen[int(cell)] = rank_in_cell[i] + 1
    return np.lexsort((np.arange(len(points)), rank_in_cell))


def extract_index_features(image: Image.Image) -> IndexFeatures:
    grey = normalise(image)
    points, descriptors = _orb(grey, QUERY_KEYPOINTS)
    order = _spread_order(points, grey.shape)
    points, descriptors = points[order], descriptors[order]
    return IndexFeatures(
        global_desc=_global_descriptor(grey),
        points=points[:STORED_KEYPOINTS],
        descriptors=descriptors[:STORED_KEYPOINTS],
        words=lsh_words(descriptors[:WORD_KEYPOINTS]),
    )


def _describe_query_side(grey: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    points, descriptors = _orb(grey, QUERY_KEYPOINTS)
    return points, descriptors, _global_descriptor(grey)


def extract_query_features(image: Image.Image) -> QueryFeatures:
    grey = normalise(image)
    mirrored = beside(_describe_query_side, np.ascontiguousarray(grey[:, ::-1]))
    straight_pts, straight_des, straight_global = _describe_query_side(grey)
    mirror_pts, mirror_des, mirror_global = mirrored.result()
    width, height = image.size
    return QueryFeatures(
        global_descs=np.stack([straight_global, mirror_global]),
        points=(straight_pts, mirror_pts),
        descriptors=(straight_des, mirror_des),
        shape=(grey.shape[0], grey.shape[1]),
        frame=Frame((0, 0, width, height), grey.shape[1] / width, grey.shape[0] / height),
    )


def _describe_region_side(grey: np.ndarray, scale: float
                          ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    points, descriptors = _orb(grey, REGION_KEYPOINTS)
    return points * np.float32(scale), descriptors, _global_descriptor(grey)


def describe_region(grey: np.ndarray, box: tuple[int, int, int, int]) -> QueryFeatures:
    """Describe the part ``box`` of an image (``grey``: the whole image, grey, full size) as
    a query of its own, in the normalised pixels an indexed image is described in.

    A region is described at REGION_AREA pixels: a larger one scaled down, a smaller one
    enlarged. Enlarging adds no detail, but ORB finds no points within 31 pixels of the
    edges, which on a small part (a photo pasted at 10% of a page, 320x180 pixels) is
    half its area; enlarged, the part keeps its points, and a pasted photo found from a
    proposed box went from 0.80-0.88 to 0.83-0.93 recall@1 (``benchmarks/regions.py``).
    ORB's scale pyramid meets the indexed image's, and the points are scaled to the
    normalised frame, so that a copy still maps at a scale near 1. Fewer points and
    pixels than a whole query: a part holds less, and the parts of one image are
    searched together (REGION_KEYPOINTS, REGION_AREA).
    """
    x1, y1, x2, y2 = box
    crop = grey[y1:y2, x1:x2]
    height, width = crop.shape
    scale = _normalising_scale(width, height)  # image pixels -> normalised pixels
    described = (REGION_AREA / (width * height)) ** 0.5
    if described != 1:
        size = (max(8, round(width * described)), max(8, round(height * described)))
        interpolation = cv2.INTER_AREA if described < 1 else cv2.INTER_CUBIC
        crop = cv2.resize(crop, size, interpolation=interpolation)
    points_scale = scale * width / crop.shape[1]  # described pixels -> normalised pixels
    mirrored = beside(_describe_region_side, np.ascontiguousarray(crop[:, ::-1]), points_scale)
    straight_pts, straight_des, straight_global = _describe_region_side(crop, points_scale)
    mirror_pts, mirror_des, mirror_global = mirrored.result()
    return QueryFeatures(
        global_descs=np.stack([straight_global, mirror_global]),
        points=(straight_pts, mirror_pts),
        descriptors=(straight_des, mirror_des),
        shape=(round(height * scale), round(width * scale)),
        frame=Frame(box, scale, scale),
    )


def verify(
    query_points: np.ndarray,
    query_descriptors: np.ndarray,
    points: np.ndarray,
    descriptors: np.ndarray,
) -> Verification:
    """Match ORB descriptors (ratio test) and count RANSAC inliers of a similarity transform."""
    if len(query_descriptors) < 2 or len(descriptors) < 2:
        return Verification(0, 0.0)
    matcher = cv2.BFMatcher(cv2.NORM_HAMMING)
    pairs = matcher.knnMatch(query_descriptors, descriptors, k=2)
    good = [m for m, n in (p for p in pairs if len(p) == 2) if m.distance < 0.8 * n.distance]
    if len(good) < 4:
        return Verification(0, 0.0)
    source = query_points[[m.queryIdx for m in good]]
    target = points[[m.trainIdx for m in good]]
    transform, mask = cv2.estimateAffinePartial2D(source, target, method=cv2.RANSAC,
                                                  ransacReprojThreshold=8.0, maxIters=1000)
    if transform is None or mask is None:
        return Verification(0, 0.0)
    # Both images are normalised to the same area, so a copy maps at a scale near 1 (0.8 for a
    # 70% crop). A collapsing transform (scale ~0) "explains" unrelated points: reject it.
    scale = float(np.hypot(transform[0, 0], transform[1, 0]))
    if not MIN_SCALE <= scale <= MAX_SCALE:
        return Verification(0, 0.0)
    inlier_points = source[mask.ravel() == 1]
    if len(inlier_points) < 3:
        return Verification(len(inlier_points), 0.0)
    hull = cv2.contourArea(cv2.convexHull(inlier_points))
    total = cv2.contourArea(cv2.convexHull(query_points))
    return Verification(len(inlier_points), float(hull / total) if total > 0 else 0.0,
                        transform)


def geometric_score(check: Verification) -> float:
    """Map verified inliers to [0, 1): 20 effective inliers ~0.23, 60 ~0.8, 120 ~0.97."""
    return float(1.0 - np.exp(-max(0.0, check.effective_inliers - 12.0) / 30.0))


def global_score(similarity: float) -> float:
    """Map global cosine similarity to [0, 1]: only near-identical appearance counts."""
    return float(np.clip((similarity - 0.95) / 0.04, 0.0, 1.0))


def load_for_features(data: bytes) -> Image.Image:
    """Decode image bytes (already validated by rir.inputs.images) with EXIF orientation applied."""
    import io

    image = Image.open(io.BytesIO(data))
    image.load()
    return ImageOps.exif_transpose(image)
