"""Regions: the part of a query image a search is about.

    >>> from rir import Region
    >>> Region(120, 40, 560, 380)                  # pixels of the image as loaded
    >>> Region.from_grid(100, 50, 480, 520)        # the 0-1000 grid VLMs emit (Qwen-VL style)
    >>> Region.from_fractions(0.5, 0, 1, 0.5)      # shares of the width and height
    >>> Region.parse("120,40,560,380"), Region.parse([100, 50, 480, 520], unit="grid")

A box is ``(x1, y1, x2, y2)``: left, top, right, bottom, origin at the top-left corner,
``x2``/``y2`` exclusive. Pixels are those of the image *as loaded*, EXIF orientation
applied (what :func:`rir.load_image` gives), so a phone photo's box is the one you see.
Grid and fraction regions are resolved against the image when it is searched
(:meth:`Region.resolve`); a box that does not fit raises
:class:`~rir.errors.InvalidRegionError` naming the box, its scale and the image size,
with a hint when the numbers look like another scale (a 0-1000 box given as pixels).

:func:`acrop_boxes` cuts the boxes out of an image for engines that search pixels they
are sent, enlarging small crops by :data:`WEB_MIN_SHORT_SIDE` (see :func:`upscale_factor`
for the rule and why).
"""

from __future__ import annotations

import asyncio
import dataclasses
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from PIL import Image

from rir.errors import InvalidRegionError
from rir.inputs.images import DEFAULT_MAX_BYTES, DEFAULT_MAX_PIXELS, QueryImage, aload_image

__all__ = [
    "AUTO",
    "GRID",
    "MAX_REGIONS",
    "MAX_UPSCALE",
    "MIN_REGION_SIDE",
    "REGION_ARGUMENT_HELP",
    "WEB_MIN_SHORT_SIDE",
    "Box",
    "PlannedPart",
    "Region",
    "RegionUnit",
    "acrop_boxes",
    "parse_regions",
    "plan_parts",
    "region_unit",
    "tool_regions",
    "upscale_factor",
]

Box = tuple[int, int, int, int]
RegionUnit = Literal["px", "fraction", "grid"]
#: The value of ``regions=`` that asks for automatic proposals.
AUTO = "auto"
#: The grid vision-language models emit boxes on (Qwen-VL and most open VLMs): 0-1000.
GRID = 1000
#: The smallest region searched, in pixels a side: below it nothing is left to match.
MIN_REGION_SIDE = 16
#: Crops sent to web engines are enlarged until their shorter side is this long...
WEB_MIN_SHORT_SIDE = 480
#: ...but by at most this factor (more only magnifies blur), and to at most this long side.
MAX_UPSCALE = 4.0
_MAX_UPSCALED_SIDE = 2048
#: At most this many parts (the whole image included) in one region search, on any engine.
MAX_REGIONS = 16
_UNIT_NAMES = {"px": "in pixels", "fraction": "as fractions (0-1)", "grid": "on the 0-1000 grid"}
_UNIT_ALIASES: dict[str, RegionUnit] = {
    "px": "px", "pixel": "px", "pixels": "px",
    "1": "fraction", "fraction": "fraction", "fractions": "fraction",
    "1000": "grid", "grid": "grid",
}
_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


def region_unit(scale: Any) -> RegionUnit:
    """The unit a scale names: ``"px"`` or ``None`` (pixels), ``1`` or ``"fraction"``,
    ``1000`` or ``"grid"``."""
    if scale is None:
        return "px"
    key = str(scale).strip().lower()
    if isinstance(scale, float) and scale.is_integer():
        key = str(int(scale))
    unit = _UNIT_ALIASES.get(key)
    if unit is None:
        raise InvalidRegionError(
            f"Unknown region scale {scale!r}: use 'px' (pixels of the image), 1000 (the 0-1000 "
            "grid vision-language models emit) or 1 (fractions of the width and height)."
        )
    return unit


@dataclass(frozen=True)
class Region:
    """A box ``(x1, y1, x2, y2)`` on the query image: left, top, right, bottom.

    ``unit`` says what the numbers are: ``"px"`` (pixels of the image as loaded, EXIF
    orientation applied; the default), ``"grid"`` (0-1000, what vision-language models
    emit) or ``"fraction"`` (0-1). Grid and fraction regions become pixels when the
    image is known (:meth:`resolve`); ``box`` and the sizes are for pixel regions.
    """

    x1: int | float
    y1: int | float
    x2: int | float
    y2: int | float
    unit: RegionUnit = "px"

    def __post_init__(self) -> None:
        if self.unit not in _UNIT_NAMES:
            raise InvalidRegionError(f"Unknown region unit {self.unit!r}; use px, grid or "
                                     "fraction.")
        values = (self.x1, self.y1, self.x2, self.y2)
        if any(isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v)
               for v in values):
            raise InvalidRegionError(
                f"A region needs four numbers x1, y1, x2, y2; got {values!r}.")
        if self.unit == "px" and max(values) <= 1 and not all(float(v).is_integer()
                                                               for v in values):
            raise InvalidRegionError(
                f"The region {self.describe()} is smaller than a pixel. These look like "
                "fractions of the width and height: use Region.from_fractions(...) "
                "(--region-scale 1 on the command line).")
        if self.unit == "px":  # pixels are whole numbers; a float box is rounded, not refused
            for name, value in zip(("x1", "y1", "x2", "y2"), values, strict=True):
                object.__setattr__(self, name, round(value))
        limit = {"px": math.inf, "grid": GRID, "fraction": 1}[self.unit]
        if min(self.numbers) < 0 or max(self.numbers) > limit:
            span = "at least 0" if limit == math.inf else f"between 0 and {limit:g}"
            raise InvalidRegionError(
                f"The region {self.describe()} has coordinates outside the scale: each must be "
                f"{span}.{self._scale_hint()}")
        if not (self.x1 < self.x2 and self.y1 < self.y2):
            raise InvalidRegionError(
                f"The region {self.describe()} is {'inverted' if self._inverted() else 'empty'}: "
                "give it as x1, y1, x2, y2 (left, top, right, bottom) with x1 < x2 and "
                f"y1 < y2.{self._scale_hint()}")

    # -- constructors ---------------------------------------------------------------------------

    @classmethod
    def from_box(cls, box: Sequence[float]) -> Region:
        """A pixel region from an ``(x1, y1, x2, y2)`` tuple (what engines exchange)."""
        return cls.parse(box, unit="px")

    @classmethod
    def from_grid(cls, x1: float, y1: float, x2: float, y2: float) -> Region:
        """A region on the 0-1000 grid vision-language models emit (Qwen-VL style)."""
        return cls(x1, y1, x2, y2, unit="grid")

    @classmethod
    def from_fractions(cls, x1: float, y1: float, x2: float, y2: float) -> Region:
        """A region in shares (0-1) of the image's width and height."""
        return cls(x1, y1, x2, y2, unit="fraction")

    @classmethod
    def parse(cls, value: Any, *, unit: RegionUnit | str | int | None = "px") -> Region:
        """A region from a :class:`Region`, ``"x1,y1,x2,y2"`` (commas or spaces, brackets
        allowed), four numbers, or a mapping with ``x1``..``y2`` (and optionally ``unit``).

        ``unit`` applies to everything but a :class:`Region` (which keeps its own).
        """
        if isinstance(value, Region):
            return value
        resolved_unit = region_unit(unit)
        if isinstance(value, dict):
            missing = [key for key in ("x1", "y1", "x2", "y2") if key not in value]
            if missing:
                raise InvalidRegionError(
                    f"The region {value!r} lacks {', '.join(missing)}; give x1, y1, x2, y2.")
            unit_given = value.get("unit")
            return cls(*(value[key] for key in ("x1", "y1", "x2", "y2")),
                       unit=region_unit(unit_given) if unit_given else resolved_unit)
        numbers = _four_numbers(value)
        return cls(*numbers, unit=resolved_unit)

    # -- what it is ---------------------------------------------------------------------------

    @property
    def numbers(self) -> tuple[float, float, float, float]:
        return (self.x1, self.y1, self.x2, self.y2)

    @property
    def box(self) -> Box:
        """``(x1, y1, x2, y2)`` in pixels (pixel regions only: :meth:`resolve` the others)."""
        if self.unit != "px":
            raise InvalidRegionError(
                f"The region {self.describe()} is not in pixels yet; resolve it against the "
                "image first (region.resolve(width, height)).")
        return (int(self.x1), int(self.y1), int(self.x2), int(self.y2))

    @property
    def width(self) -> int:
        x1, _, x2, _ = self.box
        return x2 - x1

    @property
    def height(self) -> int:
        _, y1, _, y2 = self.box
        return y2 - y1

    def describe(self) -> str:
        """``(120, 40, 560, 380) in pixels``: the box and its scale, for messages."""
        shown = ", ".join(f"{v:g}" for v in self.numbers)
        return f"({shown}) {_UNIT_NAMES[self.unit]}"

    def resolve(self, width: int, height: int) -> Region:
        """This region in pixels of a ``width`` x ``height`` image, checked to fit in it.

        Grid and fraction boxes are scaled (edges rounded outwards); a pixel box must lie
        inside the image. Raises :class:`~rir.errors.InvalidRegionError` for a box outside
        the image or smaller than :data:`MIN_REGION_SIDE` pixels a side.
        """
        if self.unit == "px":
            if self.x2 > width or self.y2 > height:
                raise InvalidRegionError(
                    f"The region {self.describe()} lies outside the {width}x{height} image "
                    f"({_overflow(self, width, height)}).{self._scale_hint(width, height)}")
            resolved = self
        else:
            top = GRID if self.unit == "grid" else 1
            resolved = Region(
                math.floor(self.x1 / top * width), math.floor(self.y1 / top * height),
                min(width, math.ceil(self.x2 / top * width)),
                min(height, math.ceil(self.y2 / top * height)))
        if resolved.width < MIN_REGION_SIDE or resolved.height < MIN_REGION_SIDE:
            also = f" ({resolved.describe()})" if resolved is not self else ""
            raise InvalidRegionError(
                f"The region {self.describe()}{also} is only {resolved.width}x{resolved.height} "
                f"pixels of the {width}x{height} image; a region needs at least "
                f"{MIN_REGION_SIDE} pixels a side to be searched.{self._scale_hint()}")
        return resolved

    def position_label(self, width: int, height: int) -> str:
        """Where the (pixel) region sits in a ``width`` x ``height`` image, in words a prompt
        can use: ``"whole image"``, ``"top-left"``, ``"top"``, ``"centre"``, ``"bottom-right"``,
        ``"left half"``, ``"bottom half"``..."""
        x1, y1, x2, y2 = self.box
        share_w, share_h = (x2 - x1) / width, (y2 - y1) / height
        if share_w * share_h >= 0.9:
            return "whole image"
        across = _third((x1 + x2) / 2 / width, ("left", "centre", "right"))
        down = _third((y1 + y2) / 2 / height, ("top", "middle", "bottom"))
        if share_h >= 0.8 and across != "centre" and 0.35 <= share_w <= 0.65:
            return f"{across} half"
        if share_w >= 0.8 and down != "middle" and 0.35 <= share_h <= 0.65:
            return f"{down} half"
        if across == "centre" and down == "middle":
            return "centre"
        if across == "centre":
            return down
        if down == "middle":
            return across
        return f"{down}-{across}"

    def as_list(self) -> list[int]:
        """``[x1, y1, x2, y2]`` in pixels (the form stored in hit and result metadata)."""
        return list(self.box)

    def __str__(self) -> str:
        return self.describe()

    # -- messages -----------------------------------------------------------------------------

    def _inverted(self) -> bool:
        return self.x1 > self.x2 or self.y1 > self.y2

    def _scale_hint(self, width: int | None = None, height: int | None = None) -> str:
        """A hint when the numbers look like another scale than the one they were given in."""
        top = max(self.numbers)
        if self.unit == "px" and width is not None and top <= GRID:
            return (f" If these are coordinates on the 0-1000 grid vision-language models "
                    f"emit, use Region.from_grid(...) (--region-scale 1000 on the command "
                    f"line); pixel boxes must fit in {width}x{height}.")
        if self.unit == "fraction" and top > 1:
            return " Fractions go from 0 to 1; for the 0-1000 grid use Region.from_grid(...)."
        if self.unit == "grid" and top > GRID:
            return " The grid goes from 0 to 1000; for pixels use Region(x1, y1, x2, y2)."
        return ""


def _third(position: float, names: tuple[str, str, str]) -> str:
    return names[0] if position < 1 / 3 else names[2] if position > 2 / 3 else names[1]


def _overflow(region: Region, width: int, height: int) -> str:
    parts = []
    if region.x2 > width:
        parts.append(f"x2 {region.x2:g} > width {width}")
    if region.y2 > height:
        parts.append(f"y2 {region.y2:g} > height {height}")
    return ", ".join(parts)


def _four_numbers(value: Any) -> tuple[float, float, float, float]:
    shown = repr(value) if not isinstance(value, str) else f"'{value}'"
    if isinstance(value, str):
        found = _NUMBER.findall(value)
        leftover = _NUMBER.sub("", value)
        if len(found) != 4 or re.search(r"[^\s,;()\[\]]", leftover):
            raise InvalidRegionError(
                f"Cannot read the region {shown}: expected four numbers x1,y1,x2,y2 (left, "
                "top, right, bottom), e.g. '120,40,560,380'.")
        return tuple(float(n) for n in found)  # type: ignore[return-value]
    if isinstance(value, Sequence) and not isinstance(value, (bytes, bytearray)) \
            and len(value) == 4:
        numbers = []
        for item in value:
            if isinstance(item, str):
                try:
                    item = float(item)
                except ValueError:
                    break
            if isinstance(item, bool) or not isinstance(item, (int, float)):
                break
            numbers.append(item)
        else:
            return tuple(numbers)  # type: ignore[return-value]
    raise InvalidRegionError(
        f"Cannot read the region {shown[:200]}: expected four numbers x1, y1, x2, y2 (left, "
        "top, right, bottom).")


def parse_regions(value: Any, *, unit: RegionUnit | str | int | None = "px"
                  ) -> list[Region] | Literal["auto"]:
    """``"auto"``, or the regions in ``value``: one box (a :class:`Region`, four numbers,
    ``"x1,y1,x2,y2"``) or several (a list of boxes, or boxes separated by ``;`` in a string).

    What tools, servers and the command line accept from users and models.
    """
    if isinstance(value, str):
        text = value.strip()
        if text.lower() == AUTO:
            return AUTO
        if not text:
            raise InvalidRegionError(
                "The region is empty: give x1,y1,x2,y2 (several separated by ';') or 'auto'.")
        return [Region.parse(piece, unit=unit) for piece in text.split(";") if piece.strip()]
    if isinstance(value, (Region, dict)):
        return [Region.parse(value, unit=unit)]
    if isinstance(value, Iterable) and not isinstance(value, (bytes, bytearray)):
        items = list(value)
        if items and all(isinstance(v, (int, float, str)) and not isinstance(v, bool)
                         for v in items) and len(items) == 4 and not any(
                isinstance(v, str) and not _NUMBER.fullmatch(v.strip()) for v in items):
            return [Region.parse(items, unit=unit)]
        if not items:
            raise InvalidRegionError("The list of regions is empty: give at least one box "
                                     "x1,y1,x2,y2, or 'auto'.")
        if len(items) > 1 and any(isinstance(item, str) and item.strip().lower() == AUTO
                                  for item in items):
            raise InvalidRegionError("'auto' stands alone: give either 'auto' or boxes.")
        if len(items) == 1 and isinstance(items[0], str) and items[0].strip().lower() == AUTO:
            return AUTO
        return [Region.parse(item, unit=unit) for item in items]
    raise InvalidRegionError(
        f"regions must be 'auto', a box x1,y1,x2,y2 or a list of boxes; got "
        f"{type(value).__name__}.")


# -- what agents send ---------------------------------------------------------------------------

#: How every agent tool (LangChain, LlamaIndex, MCP, HTTP) describes its ``region`` argument.
REGION_ARGUMENT_HELP = (
    "Optional: search only part of the image. A box on a 0-1000 grid of the image as "
    "'x1,y1,x2,y2' (left, top, right, bottom; origin at the top-left corner; 1000 is the full "
    "width or height), e.g. '0,0,500,1000' for the left half; several boxes as a list or "
    "separated by ';' (each searched on its own); or 'auto' to find the photos inside the "
    "image (a screenshot, a page, a collage) and search each, with the whole image. Leave "
    "empty to search the whole image."
)


def tool_regions(value: Any) -> list[Region] | Literal["auto"] | None:
    """An agent tool's ``region`` argument: ``None`` (or empty) for the whole image,
    ``"auto"``, or boxes on the 0-1000 grid (:data:`REGION_ARGUMENT_HELP`)."""
    if value is None or (isinstance(value, (str, list)) and not value) or (
            isinstance(value, str) and not value.strip()):
        return None
    return parse_regions(value, unit="grid")


# -- which parts a request searches ------------------------------------------------------------


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
    from rir.errors import InvalidImageError

    smallest = 4 * MIN_REGION_SIDE
    if image.width < smallest or image.height < smallest:
        raise InvalidImageError(
            f"The image is {image.width}x{image.height}, too small to split into regions "
            f"(at least {smallest}x{smallest} pixels); search it whole.")
    w, h = image.width, image.height
    cells = [(0, 0, w // 2, h // 2), (w // 2, 0, w, h // 2), (0, h // 2, w // 2, h),
             (w // 2, h // 2, w, h)]
    return cells[: max_regions or 4]


# -- crops for engines that search the pixels they are sent -------------------------------------


def upscale_factor(width: int, height: int) -> float:
    """How much a crop of ``width`` x ``height`` is enlarged before a web engine sees it.

    The rule: a crop whose shorter side is under :data:`WEB_MIN_SHORT_SIDE` (480) pixels
    is enlarged (Lanczos) until it reaches it, by at most :data:`MAX_UPSCALE` (4x) and to
    at most 2048 pixels on its longer side; larger crops are sent as they are. Why: web
    engines match what they are sent at the size of an ordinary photo. Google's Cloud
    Vision asks for at least 640x480 "for accurate image detection"; Lens and SerpApi
    (which uploads to Lens) work from the same models, and a 120-pixel crop of a
    screenshot is a thumbnail to them. Enlarging adds no detail, so the factor is
    capped: past 4x only blur grows, and so does the upload.
    """
    short, long = min(width, height), max(width, height)
    if short >= WEB_MIN_SHORT_SIDE:
        return 1.0
    return max(1.0, min(WEB_MIN_SHORT_SIDE / short, MAX_UPSCALE, _MAX_UPSCALED_SIDE / long))


async def acrop_boxes(image: QueryImage, boxes: Sequence[Box], *,
                      upscale: bool = True) -> list[QueryImage]:
    """The pixels of each box of ``image`` as a new :class:`QueryImage` (JPEG, or PNG when
    the image has transparency), enlarged by :func:`upscale_factor` when ``upscale``.

    The image is decoded once for all boxes. A crop carries no URL (an engine must search
    its pixels, not the whole image's address) and says in its origin which box it is.
    """
    def cut() -> list[Image.Image]:
        whole = image.to_pil()
        if whole.mode not in ("RGB", "RGBA", "L"):
            whole = whole.convert("RGBA" if "transparency" in whole.info else "RGB")
        pieces = []
        for box in boxes:
            piece = whole.crop(box)
            factor = upscale_factor(piece.width, piece.height) if upscale else 1.0
            if factor > 1.0:
                size = (round(piece.width * factor), round(piece.height * factor))
                piece = piece.resize(size, Image.Resampling.LANCZOS)
            pieces.append(piece)
        return pieces

    pieces = await asyncio.to_thread(cut)
    crops = []
    for box, piece in zip(boxes, pieces, strict=True):
        crop = await aload_image(piece, max_bytes=max(DEFAULT_MAX_BYTES, 2 * len(image.data)),
                                 max_pixels=max(DEFAULT_MAX_PIXELS, image.width * image.height))
        shown = ",".join(str(v) for v in box)
        crops.append(dataclasses.replace(crop, origin=f"{image.origin} [region {shown}]",
                                         url=None, path=None))
    return crops
