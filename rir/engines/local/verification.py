"""The verification stage: score candidates geometrically, in vote order, two at a time.

Each candidate is checked on the query side it voted for (as is or mirrored):
RANSAC inliers of a similarity transform between the two keypoint sets, or, for
pictures with few keypoints, near-identical global appearance. Candidates come
strongest first, so once one has passed, four failures in a row end the stage.

Two checks run side by side (OpenCV releases the GIL): the next candidate is
checked on another core while this thread checks the current one. The stage
stops exactly where checking one at a time would, and a check made ahead of a
stop is discarded, so the result does not depend on the number of cores.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import Future
from typing import NamedTuple

import numpy as np

from rir._runtime import beside
from rir.engines.local import features as F
from rir.engines.local.candidates import Candidate

__all__ = ["Check", "verify_candidates"]

_MISSES_TO_STOP = 4
_PLACED = 0.1  # geometric score (~15 inliers) from which a match's transform is reported


class Check(NamedTuple):
    """The verdict on one candidate."""

    score: float  # in [0, 1]
    match: str  # "exact" or "visual" ("similar" for the optional embedder's hits)
    inliers: int
    mirrored: bool = False  # matched on the mirrored query
    #: query (normalised) -> indexed image (normalised), 2x3, when the geometry is what
    #: matched (or the bytes are the same); None for appearance-only matches.
    transform: np.ndarray | None = None

_NO_POINTS = (np.zeros((0, 2), np.float32), np.zeros((0, 32), np.uint8))


def verify_candidates(candidates: Sequence[Candidate], query: F.QueryFeatures,
                      keypoints: Mapping[int, tuple[np.ndarray, np.ndarray]],
                      threshold: float) -> dict[int, Check]:
    """Checks by rowid of the candidates checked (in order, up to the stopping point).

    ``keypoints`` holds every candidate's stored points and descriptors, read in one
    round trip (one query of the file, one ``retrieve`` from Qdrant).
    """

    def check(candidate: Candidate) -> Check:
        votes, similarity = candidate.votes, candidate.similarity
        mirrored = int(votes[1] > votes[0]) if max(votes) > 0 \
            else int(similarity[1] > similarity[0])
        points, descriptors = keypoints.get(candidate.rowid, _NO_POINTS)
        result = F.verify(query.points[mirrored], query.descriptors[mirrored], points,
                          descriptors)
        appearance = F.global_score(max(similarity))
        geometric = F.geometric_score(result)
        score = 1.0 if candidate.exact else max(geometric, appearance)
        match = "exact" if candidate.exact or appearance >= 0.99 else "visual"
        transform = result.transform if geometric >= max(threshold, _PLACED) else None
        if candidate.exact and transform is None:  # the same bytes: the same picture
            transform, mirrored = np.eye(2, 3), 0
        return Check(round(score, 4), match, result.inliers, bool(mirrored), transform)

    scored: dict[int, Check] = {}
    misses = 0
    ahead: Future[Check] | None = None
    for i, candidate in enumerate(candidates):
        if ahead is None:
            if i + 1 < len(candidates):
                ahead = beside(check, candidates[i + 1])
            score = check(candidate)
        else:
            score, ahead = ahead.result(), None
        scored[candidate.rowid] = score
        misses = 0 if score.score >= threshold else misses + 1
        if misses >= _MISSES_TO_STOP and any(s.score >= threshold for s in scored.values()):
            break  # the rest have fewer votes still
    return scored
