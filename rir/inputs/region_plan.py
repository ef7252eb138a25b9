"""Which parts a region search covers: the whole image, the boxes asked for, or proposals.

:func:`plan_parts` turns a request's ``regions`` (``"auto"``, boxes, :class:`Region`
objects, strings) into the pixel regions to search, with where each sits in words,
dropping duplicates and refusing more than :data:`MAX_REGIONS` before anything runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from rir.errors import InvalidImageError, InvalidRegionError
from rir.inputs.images import QueryImage
from rir.inputs.region import AUTO, MIN_REGION_SIDE, Box, Region, parse_regions

__all__ = ["MAX_REGIONS", "PlannedPart", "plan_parts"]

#: At most this many parts (the whole image included) in one region search, on any engine.
MAX_REGIONS = 16


@dataclass(frozen=True)
class PlannedPart:
    """A part to search: the pixel region, why it is searched, and where it sits in words."""

    region: Region
    origin: Literal["whole", "auto", "given"]
    label: str


def plan_parts(image: QueryImage, regions: Any, *, include_whole: bool = True,
               max_regions: int = MAX_REGIONS, max_auto_regions: int | None = None
               ) -> tuple[list[PlannedPart], int]:
    """The parts a region search of ``image`` covers, and how many duplicates were dropped.

    ``regions``: ``"auto"`` (proposed from the pixels by
    :func:`rir.inputs.region_proposals.propose_regions`), or one region or a list of
    regions (:class:`Region`, pixel boxes, strings; see :func:`parse_regions`). The whole
    image comes first unless ``include_whole=False``. A box given twice, or the whole image
    given as a box, is searched once. More than ``max_regions`` parts is an
    :class:`~rir.errors.InvalidRegionError`, raised before anything is searched.
    """
    width, height = image.width, image.height
    whole = Region(0, 0, width, height)
    planned: list[PlannedPart] = [PlannedPart(whole, "whole", "whole image")] \
        if include_whole else []
    wanted = parse_regions(regions)
    if wanted == AUTO:
        origin: Literal["auto", "given"] = "auto"
        boxes = [Region.from_box(box) for box in _propose(image, max_auto_regions)]
    else:
        origin = "given"
        boxes = [region.resolve(width, height) for region in wanted]
    seen = {part.region.box for part in planned}
    duplicates = 0
    for region in boxes:
        if region.box in seen:
            duplicates += 1
            continue
        seen.add(region.box)
        planned.append(PlannedPart(region, origin, region.position_label(width, height)))
    if not planned:
        raise InvalidRegionError("Nothing to search: include_whole=False and no regions; give "
                                 "regions, or search the whole image.")
    if len(planned) > max_regions:
        raise InvalidRegionError(
            f"{len(planned)} regions ({'the whole image and ' if include_whole else ''}"
            f"{len(planned) - include_whole} {origin}) are more than the {max_regions} one "
            f"search may cover; search fewer regions (max_regions={max_regions}).")
    return planned, duplicates


def _propose(image: QueryImage, max_regions: int | None) -> list[Box]:
    try:
        from rir.inputs.region_proposals import DEFAULT_MAX_AUTO_REGIONS, propose_regions
    except ImportError:  # until the proposals of issue 23 (regions-local) land: a naive grid
        return _grid_proposals(image, max_regions)
    return propose_regions(image, max_regions=max_regions or DEFAULT_MAX_AUTO_REGIONS)


def _grid_proposals(image: QueryImage, max_regions: int | None) -> list[Box]:
    """A stand-in for :func:`rir.inputs.region_proposals.propose_regions`: the 2x2 grid."""
    smallest = 4 * MIN_REGION_SIDE
    if image.width < smallest or image.height < smallest:
        raise InvalidImageError(
            f"The image is {image.width}x{image.height}, too small to split into regions "
            f"(at least {smallest}x{smallest} pixels); search it whole.")
    w, h = image.width, image.height
    cells = [(0, 0, w // 2, h // 2), (w // 2, 0, w, h // 2), (0, h // 2, w // 2, h),
             (w // 2, h // 2, w, h)]
    return cells[: max_regions or 4]
