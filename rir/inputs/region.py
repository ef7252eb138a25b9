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
:func:`parse_regions` and :func:`tool_regions` read what users, tools and models send.

Which parts a request searches is :mod:`rir.inputs.region_plan`; cutting them out for
engines that search the pixels they are sent is :mod:`rir.inputs.crops`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from rir.errors import InvalidRegionError

__all__ = [
    "AUTO",
    "GRID",
    "MIN_REGION_SIDE",
    "REGION_ARGUMENT_HELP",
    "Box",
    "Region",
    "RegionUnit",
    "parse_regions",
    "region_unit",
    "tool_regions",
]

Box = tuple[int, int, int, int]
RegionUnit = Literal["px", "fraction", "grid"]
#: The value of ``regions=`` that asks for automatic proposals.
AUTO = "auto"
#: The grid vision-language models emit boxes on (Qwen-VL and most open VLMs): 0-1000.
GRID = 1000
#: The smallest region searched, in pixels a side: below it nothing is left to match.
MIN_REGION_SIDE = 16
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
