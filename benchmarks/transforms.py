"""The image transforms a reverse image search must see through.

Each takes and returns an RGB PIL image. Used by ``benchmarks/local_index.py``
and by the local engine's tests, so both measure the same thing.
"""

from __future__ import annotations

import io
from collections.abc import Callable

from PIL import Image, ImageDraw, ImageEnhance, ImageFont, ImageOps

__all__ = ["TRANSFORMS", "crop_area"]


def _jpeg(image: Image.Image, quality: int) -> Image.Image:
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, "JPEG", quality=quality)
    return Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")


def crop_area(image: Image.Image, area: float, fx: float = 0.5, fy: float = 0.5) -> Image.Image:
    """Keep ``area`` of the picture; ``fx``/``fy`` place the window (0.5 = centred)."""
    side = area ** 0.5
    w, h = image.size
    cw, ch = round(w * side), round(h * side)
    x, y = round((w - cw) * fx), round((h - ch) * fy)
    return image.crop((x, y, x + cw, y + ch))


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    return ImageFont.load_default(size=max(10, size))


def _caption_band(image: Image.Image, fraction: float = 0.15) -> Image.Image:
    """A news-style caption band added below the picture (the canvas grows)."""
    w, h = image.size
    band = round(h * fraction)
    out = Image.new("RGB", (w, h + band), (12, 12, 12))
    out.paste(image, (0, 0))
    ImageDraw.Draw(out).text((round(w * 0.03), h + band // 4),
                             "Breaking: caption text added by a re-poster, 2026",
                             fill=(255, 255, 255), font=_font(band // 2))
    return out


def _overlay_band(image: Image.Image, fraction: float = 0.15) -> Image.Image:
    """A caption band drawn over the bottom of the picture (the canvas keeps its size)."""
    out = image.copy()
    w, h = out.size
    band = round(h * fraction)
    draw = ImageDraw.Draw(out)
    draw.rectangle((0, h - band, w, h), fill=(200, 20, 20))
    draw.text((round(w * 0.03), h - band + band // 4), "LIVE  News at ten",
              fill=(255, 255, 255), font=_font(band // 2))
    return out


def _watermark(image: Image.Image) -> Image.Image:
    base = image.convert("RGBA")
    layer = Image.new("RGBA", base.size, (0, 0, 0, 0))
    w, h = base.size
    ImageDraw.Draw(layer).text((round(w * 0.12), round(h * 0.42)), "© stock photo agency",
                               fill=(255, 255, 255, 120), font=_font(h // 9))
    return Image.alpha_composite(base, layer).convert("RGB")


TRANSFORMS: dict[str, Callable[[Image.Image], Image.Image]] = {
    "resize_half": lambda im: im.resize((im.width // 2, im.height // 2), Image.LANCZOS),
    "resize_quarter": lambda im: im.resize((im.width // 4, im.height // 4), Image.BILINEAR),
    "upscale_1.5x": lambda im: im.resize((im.width * 3 // 2, im.height * 3 // 2), Image.BICUBIC),
    "jpeg_q10": lambda im: _jpeg(im, 10),
    "crop_center_70": lambda im: crop_area(im, 0.70),
    "crop_offcenter_70": lambda im: crop_area(im, 0.70, 0.15, 0.85),
    "crop_corner_75": lambda im: crop_area(im, 0.75, 1.0, 0.0),
    "mirror": ImageOps.mirror,
    "rotate_+5": lambda im: im.rotate(5, resample=Image.BICUBIC),
    "rotate_-3_expand": lambda im: im.rotate(-3, resample=Image.BICUBIC, expand=True,
                                             fillcolor=(255, 255, 255)),
    "brighten_+40": lambda im: ImageEnhance.Brightness(im).enhance(1.4),
    "darken_-40": lambda im: ImageEnhance.Brightness(im).enhance(0.6),
    "grayscale": lambda im: ImageOps.grayscale(im).convert("RGB"),
    "caption_band": _caption_band,
    "overlay_band": _overlay_band,
    "watermark": _watermark,
}
