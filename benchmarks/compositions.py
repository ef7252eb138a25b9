"""Layouts in which a photo is only part of the picture a user holds, with the true boxes.

Each function takes real photos (RGB PIL images) and a seeded ``random.Random`` and
returns a :class:`Composition`: the picture (RGB) and, for each photo placed in it, the
box ``(x1, y1, x2, y2)`` it occupies. ``benchmarks/regions.py`` searches them and
measures :func:`rir.inputs.region_proposals.propose_regions` against the boxes; the
proposal tests use them too, so both see the same layouts:

* :func:`inset`: a photo pasted anywhere at a share of the area of an unrelated photo;
* :func:`collage`: 2x1 or 2x2 photos, with or without gutters and an outer border;
* :func:`screenshot`: a browser window (tabs, address bar) showing an article page with
  a headline, text around the photo, a caption and a sidebar;
* :func:`wall_print`: a printed photo (white margin, slightly turned, soft shadow) on a
  painted wall, under uneven light.
"""

from __future__ import annotations

import io
import math
import random
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

__all__ = ["KINDS", "Composition", "collage", "inset", "jpeg_roundtrip", "screenshot",
           "wall_print"]

Box = tuple[int, int, int, int]

_WORDS = ("the", "minister", "said", "on", "tuesday", "that", "talks", "would", "resume",
          "after", "weeks", "of", "protest", "in", "capital", "where", "thousands", "gathered",
          "officials", "confirmed", "report", "storm", "season", "market", "vote", "council",
          "agreement", "border", "team", "final", "record", "city", "night", "police",
          "climate", "energy", "prices", "rose", "sharply", "across", "region")


@dataclass(frozen=True)
class Composition:
    """A composed picture and the box of each photo in it (pixels, x2/y2 exclusive)."""

    image: Image.Image
    boxes: tuple[Box, ...]
    kind: str


def jpeg_roundtrip(image: Image.Image, quality: int = 90) -> Image.Image:
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, "JPEG", quality=quality)
    return Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")


def _fit(photo: Image.Image, scale: float) -> Image.Image:
    size = (max(8, round(photo.width * scale)), max(8, round(photo.height * scale)))
    return photo.resize(size, Image.Resampling.LANCZOS)


def _cover(photo: Image.Image, width: int, height: int) -> Image.Image:
    """``photo`` scaled and centre-cropped to fill ``width`` x ``height`` (as collage apps do)."""
    scale = max(width / photo.width, height / photo.height)
    scaled = _fit(photo, scale)
    left, top = (scaled.width - width) // 2, (scaled.height - height) // 2
    return scaled.crop((left, top, left + width, top + height))


def inset(photo: Image.Image, background: Image.Image, area: float,
          rng: random.Random) -> Composition:
    """``photo`` at ``area`` (0-1) of ``background``'s area, anywhere inside it."""
    scale = math.sqrt(area * background.width * background.height / (photo.width * photo.height))
    scale = min(scale, 0.95 * background.width / photo.width,
                0.95 * background.height / photo.height)
    small = _fit(photo, scale)
    x = rng.randrange(0, background.width - small.width + 1)
    y = rng.randrange(0, background.height - small.height + 1)
    out = background.copy()
    out.paste(small, (x, y))
    return Composition(out, ((x, y, x + small.width, y + small.height),), f"inset{area:.0%}")


def collage(photos: list[Image.Image], rng: random.Random, *, columns: int,
            gutter: int | None = None) -> Composition:
    """``photos`` in a grid of ``columns`` (2 or 4 photos: 2x1 or 2x2).

    ``gutter``: pixels between cells and around them (``None``: drawn at random, no gutter
    half the time); the gutter colour is drawn too (white, black, grey or a tint).
    """
    rows = math.ceil(len(photos) / columns)
    cell_w = rng.choice((360, 420, 480, 512))
    cell_h = round(cell_w * rng.choice((0.66, 0.75, 0.5625, 1.0)))
    if gutter is None:
        gutter = 0 if rng.random() < 0.5 else rng.choice((4, 8, 16, 24))
    colour = rng.choice(((255, 255, 255), (0, 0, 0), (128, 128, 128),
                         tuple(rng.randrange(256) for _ in range(3))))
    width, height = columns * cell_w + (columns + 1) * gutter, rows * cell_h + (rows + 1) * gutter
    out = Image.new("RGB", (width, height), colour)
    boxes = []
    for i, photo in enumerate(photos):
        x = gutter + (i % columns) * (cell_w + gutter)
        y = gutter + (i // columns) * (cell_h + gutter)
        out.paste(_cover(photo, cell_w, cell_h), (x, y))
        boxes.append((x, y, x + cell_w, y + cell_h))
    return Composition(out, tuple(boxes), f"collage{columns}x{rows}")


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    return ImageFont.load_default(size=size)


def _text_lines(draw: ImageDraw.ImageDraw, x: int, y: int, width: int, lines: int, size: int,
                colour: tuple[int, int, int], rng: random.Random) -> int:
    """Lines of random words in ``width`` pixels from (x, y); the y below the last line."""
    font = _font(size)
    for _ in range(lines):
        words, line = [], ""
        while True:
            candidate = " ".join([*words, rng.choice(_WORDS)])
            if draw.textlength(candidate, font=font) > width * rng.uniform(0.85, 1.0):
                break
            words, line = candidate.split(" "), candidate
        draw.text((x, y), line, fill=colour, font=font)
        y += round(size * 1.5)
    return y


def screenshot(photo: Image.Image, rng: random.Random) -> Composition:
    """An article page in a browser window, the photo in its text column."""
    width, height = rng.choice(((1280, 900), (1366, 768), (1440, 900), (1024, 1280)))
    dark = rng.random() < 0.25
    page, ink = ((32, 33, 36), (232, 234, 237)) if dark else ((255, 255, 255), (32, 33, 36))
    out = Image.new("RGB", (width, height), page)
    draw = ImageDraw.Draw(out)
    bar = rng.randrange(70, 100)  # tabs and the address bar
    draw.rectangle((0, 0, width, bar), fill=(53, 54, 58) if dark else (222, 225, 230))
    draw.rounded_rectangle((12, 8, 250, bar // 2), 6, fill=page)
    draw.rounded_rectangle((110, bar // 2 + 6, width - 120, bar - 8), 12,
                           fill=(32, 33, 36) if dark else (241, 243, 244))
    draw.text((130, bar // 2 + 10), "https://news.example.com/world/2026/article",
              fill=ink, font=_font(14))
    column = round(width * rng.uniform(0.55, 0.68))
    left = rng.randrange(24, max(25, width - column - 260))
    y = bar + rng.randrange(20, 50)
    y = _text_lines(draw, left, y, column, rng.randrange(1, 3), rng.randrange(26, 36), ink, rng)
    y = _text_lines(draw, left, y + 8, column, rng.randrange(0, 3), 15, ink, rng)
    # The photo: the column's width (or a little less) at its own aspect ratio, at most
    # the height left above a caption line.
    shown = round(column * rng.uniform(0.7, 1.0))
    scale = min(shown / photo.width, (height - y - 60) / photo.height)
    if scale * photo.height < 120:  # no room under the text: start it higher up
        y = bar + 20
        scale = min(shown / photo.width, (height - y - 60) / photo.height)
    picture = _fit(photo, scale)
    out.paste(picture, (left, y))
    box = (left, y, left + picture.width, y + picture.height)
    below = _text_lines(draw, left, box[3] + 8, picture.width, 1, 13, (120, 120, 120), rng)
    _text_lines(draw, left, below + 6, column, max(0, (height - below) // 24 - 1), 15, ink, rng)
    sidebar = left + column + 30
    if sidebar + 150 < width:  # related links, a grey advert block
        sy = _text_lines(draw, sidebar, bar + 40, width - sidebar - 20, 6, 14, ink, rng)
        draw.rectangle((sidebar, sy + 20, width - 20, sy + 220), fill=(200, 200, 200))
    return Composition(out, (box,), "screenshot")


def _wall(width: int, height: int, rng: random.Random) -> Image.Image:
    """A painted wall: one colour with fine plaster grain."""
    base = np.array(rng.choice(((225, 215, 195), (200, 205, 210), (170, 60, 50), (90, 110, 95),
                                (240, 240, 235), (60, 70, 90))), np.float32)
    grain = np.random.default_rng(rng.randrange(1 << 30)).normal(0, 5, (height, width, 1))
    pixels = base[None, None, :] + grain
    return Image.fromarray(pixels.clip(0, 255).astype(np.uint8)).filter(
        ImageFilter.GaussianBlur(0.6))


def _lit(image: Image.Image, rng: random.Random) -> Image.Image:
    """``image`` under a lamp: light falling off smoothly from a point above it."""
    width, height = image.size
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    cx, cy = rng.uniform(0, width), rng.uniform(-0.5 * height, 0.5 * height)
    light = 1.05 - 0.35 * np.hypot(xx - cx, yy - cy) / math.hypot(width, height)
    pixels = np.asarray(image, np.float32) * light[..., None]
    return Image.fromarray(pixels.clip(0, 255).astype(np.uint8))


def wall_print(photo: Image.Image, rng: random.Random) -> Composition:
    """``photo`` printed with a white margin, turned a few degrees, pinned on a wall, under
    uneven light."""
    width, height = rng.choice(((1200, 900), (1024, 768), (1280, 960)))
    out = _wall(width, height, rng)
    scale = math.sqrt(rng.uniform(0.15, 0.35) * width * height / (photo.width * photo.height))
    scale = min(scale, 0.7 * width / photo.width, 0.7 * height / photo.height)
    picture = _fit(photo, scale)
    margin = round(min(picture.size) * rng.uniform(0.03, 0.07))
    paper = Image.new("RGB", (picture.width + 2 * margin, picture.height + 2 * margin),
                      (246, 244, 238))
    paper.paste(picture, (margin, margin))
    angle = rng.uniform(-5.0, 5.0)
    turned = paper.convert("RGBA").rotate(angle, Image.Resampling.BICUBIC, expand=True)
    x = rng.randrange(20, width - turned.width - 20)
    y = rng.randrange(20, height - turned.height - 20)
    shadow = Image.new("RGBA", turned.size, (0, 0, 0, 0))
    shadow.putalpha(turned.getchannel("A").point(lambda a: a * 0.45))
    shadow = shadow.filter(ImageFilter.GaussianBlur(6))
    out.paste(shadow, (x + 6, y + 8), shadow)
    out.paste(turned, (x, y), turned)
    left, top, right, bottom = turned.getchannel("A").getbbox() or (0, 0, *turned.size)
    return Composition(_lit(out, rng), ((x + left, y + top, x + right, y + bottom),),
                       "wall_print")


KINDS = ("inset25", "inset10", "collage2x1", "collage2x2", "screenshot", "wall_print")
