"""Every image the tests make: the one home of test image factories.

Flat colours (:func:`jpeg_bytes`, :func:`png_bytes`) for tests that only need a valid
image; :func:`photo` and :func:`noisy_jpeg` when pixels must carry structure;
:func:`encode` for a PIL image; and crafted files for the loader's rejections.
"""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
from PIL import Image


def photo(width: int = 64, height: int = 48, fmt: str = "JPEG", **save: object) -> bytes:
    """A smooth gradient picture (real pixels, not a flat colour) encoded in ``fmt``."""
    image = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, fmt, **save)
    return buffer.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header declares ``width`` x ``height`` but carries almost no data."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\x00" * 16)) + chunk(b"IEND", b""))


def jpeg_with_orientation(width: int, height: int, orientation: int) -> bytes:
    image = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    exif = Image.Exif()
    exif[0x0112] = orientation
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif.tobytes())
    return buffer.getvalue()


def stored_turned(image: Image.Image, quality: int = 90) -> bytes:
    """``image`` as a phone stores it: pixels turned a quarter, EXIF orientation 6 saying
    to turn them back (what ``load_image`` shows is ``image``)."""
    exif = Image.Exif()
    exif[0x0112] = 6
    buffer = io.BytesIO()
    image.transpose(Image.Transpose.ROTATE_90).convert("RGB").save(
        buffer, "JPEG", quality=quality, exif=exif.tobytes())
    return buffer.getvalue()


def encode(image: Image.Image, fmt: str = "JPEG", quality: int = 85) -> bytes:
    """``image`` encoded as ``fmt`` (JPEG is written as RGB)."""
    buffer = io.BytesIO()
    if fmt == "JPEG":
        image.convert("RGB").save(buffer, fmt, quality=quality)
    else:
        image.save(buffer, fmt)
    return buffer.getvalue()


def jpeg_bytes(color: tuple[int, int, int] = (30, 90, 160), size: tuple[int, int] = (96, 64)
               ) -> bytes:
    """A flat-colour JPEG."""
    return encode(Image.new("RGB", size, color), "JPEG")


def png_bytes(color: tuple[int, int, int] = (200, 200, 0), size: tuple[int, int] = (40, 30)
              ) -> bytes:
    """A flat-colour PNG."""
    return encode(Image.new("RGB", size, color), "PNG")


def noisy_jpeg(width: int, height: int, *, seed: int = 7, quality: int = 90) -> bytes:
    """A gradient with seeded noise: a different image per seed, of a predictable size."""
    rng = np.random.default_rng(seed)
    gradient = np.linspace(0, 255, width, dtype=np.float32)[None, :, None]
    pixels = (gradient + rng.normal(0, 40, (height, width, 3))).clip(0, 255).astype(np.uint8)
    return encode(Image.fromarray(pixels), "JPEG", quality=quality)
