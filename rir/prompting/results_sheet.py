"""Render search hits as a results sheet (PNG): a grid of thumbnails with titles.

Engines that do not photograph a results page (the local index, API engines)
can still feed the ``screenshot`` context mode with this picture of their
results, laid out like a reverse image search page.
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageFont, UnidentifiedImageError

__all__ = ["SheetItem", "render_results_sheet"]

_CELL_W, _THUMB_H, _TEXT_H, _PAD = 220, 150, 58, 12


@dataclass(frozen=True)
class SheetItem:
    title: str
    site: str = ""
    thumbnail: bytes | None = None


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1 has one fixed-size bitmap font
        return ImageFont.load_default()


def render_results_sheet(items: Sequence[SheetItem], *, columns: int = 4,
                         heading: str = "Visual matches") -> bytes:
    """A PNG with one cell per item: thumbnail (or a grey box), title, site."""
    columns = max(1, min(columns, len(items) or 1))
    rows = max(1, -(-len(items) // columns))
    width = columns * (_CELL_W + _PAD) + _PAD
    height = 48 + rows * (_THUMB_H + _TEXT_H + _PAD) + _PAD
    sheet = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(sheet)
    draw.text((_PAD, 14), heading if items else f"{heading}: no results", fill=(32, 33, 36),
              font=_font(20))
    title_font, site_font = _font(13), _font(11)
    for index, item in enumerate(items):
        x = _PAD + (index % columns) * (_CELL_W + _PAD)
        y = 48 + (index // columns) * (_THUMB_H + _TEXT_H + _PAD)
        draw.rectangle((x, y, x + _CELL_W, y + _THUMB_H), fill=(241, 243, 244))
        thumb = _decode(item.thumbnail)
        if thumb is not None:
            thumb.thumbnail((_CELL_W, _THUMB_H))
            offset = ((_CELL_W - thumb.width) // 2, (_THUMB_H - thumb.height) // 2)
            sheet.paste(thumb, (x + offset[0], y + offset[1]))
        lines = textwrap.wrap(item.title or "(untitled)", width=30)[:2]
        for line_no, line in enumerate(lines):
            draw.text((x, y + _THUMB_H + 4 + 16 * line_no), line, fill=(26, 13, 171),
                      font=title_font)
        if item.site:
            draw.text((x, y + _THUMB_H + 40), item.site[:36], fill=(95, 99, 104), font=site_font)
    buffer = io.BytesIO()
    sheet.save(buffer, "PNG", optimize=True)
    return buffer.getvalue()


def _decode(data: bytes | None) -> Image.Image | None:
    if not data:
        return None
    try:
        image = Image.open(io.BytesIO(data))
        image.load()
    except (UnidentifiedImageError, OSError, ValueError):
        return None  # an undecodable thumbnail leaves its grey box
    return image.convert("RGB")
