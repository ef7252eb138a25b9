"""Which proposed regions to keep, and the fallback when none is found.

:func:`choose` keeps the best boxes, largest first: of near-identical boxes the best
counts once, and the slices of a photo (the photo cut along a line inside it) are not
parts of their own. :func:`fallback` is what :func:`~rir.inputs.region_proposals.
propose_regions` offers when nothing rectangular is found.
"""

from __future__ import annotations

__all__ = ["DUPLICATE_IOU", "Box", "choose", "fallback", "iou"]

Box = tuple[int, int, int, int]

#: Two boxes overlapping this much (intersection over union) are the same region.
DUPLICATE_IOU = 0.6
_MAX_IOU_WITH_WHOLE = 0.85  # a box this close to the whole picture is the whole picture
_SLICE = 0.85  # share of a box inside a better photo that makes it a slice of that photo
_SHARED_SIDE = 0.02  # of the picture's longer side: two sides this close are one
_SLICE_AREA = 0.75  # a slice sharing three sides is at most this share of the whole


def iou(a: Box, b: Box) -> float:
    inter = _intersection(a, b)
    union = _area(a) + _area(b) - inter
    return inter / union if union else 0.0


def choose(found: list[tuple[Box, float, bool]], width: int, height: int,
            limit: int) -> list[Box]:
    """The ``limit`` best boxes, largest first. Of near-identical boxes the best counts.
    A box lying inside a better one is a slice of it when that one holds no parts (a
    framed photo), or when it shares three sides with it or with a box it stood for (a
    collage cell holds parts, but a cell's photo cut along a line inside it is a slice:
    three sides shared, and clearly smaller)."""
    whole = (0, 0, width, height)
    slack = max(3, round(_SHARED_SIDE * max(width, height)))
    kept: list[tuple[Box, bool, list[Box]]] = []  # box, holds parts, the boxes it stood for
    for box, _, holds_parts in sorted(found, key=lambda item: (-item[1], item[0])):
        if iou(box, whole) >= _MAX_IOU_WITH_WHOLE:
            continue
        same = next((family for other, _, family in kept
                     if iou(box, other) >= DUPLICATE_IOU), None)
        if same is not None:
            same.append(box)
            continue
        if any(_inside(box, other) >= _SLICE and (
                not holder or any(_shared_sides(box, one, slack) >= 3
                                  and _area(box) <= _SLICE_AREA * _area(one) for one in family))
               for other, holder, family in kept):
            continue
        kept.append((box, holds_parts, [box]))
        if len(kept) == limit:
            break
    return sorted((box for box, _, _ in kept), key=lambda b: (-_area(b), b))


def _area(box: Box) -> int:
    return (box[2] - box[0]) * (box[3] - box[1])


def _intersection(a: Box, b: Box) -> int:
    """The area ``a`` and ``b`` share."""
    return (max(0, min(a[2], b[2]) - max(a[0], b[0]))
            * max(0, min(a[3], b[3]) - max(a[1], b[1])))


def _shared_sides(box: Box, other: Box, slack: int) -> int:
    """How many of ``box``'s sides lie on ``other``'s (within ``slack`` pixels)."""
    return sum(abs(a - b) <= slack for a, b in zip(box, other, strict=True))


def _inside(box: Box, other: Box) -> float:
    """The share of ``box`` that lies inside ``other``."""
    return _intersection(box, other) / max(1, _area(box))


def fallback(width: int, height: int) -> list[Box]:
    """The four overlapping quarters, each two thirds of the width and height, then the
    centre: any part up to a third of the width and of the height (a ninth of the
    picture) lies whole inside one of the quarters."""
    w, h = round(width * 2 / 3), round(height * 2 / 3)
    cx, cy = (width - w) // 2, (height - h) // 2
    return [(0, 0, w, h), (width - w, 0, width, h), (0, height - h, w, height),
            (width - w, height - h, width, height), (cx, cy, cx + w, cy + h)]
