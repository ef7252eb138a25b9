"""Crops for engines that search the pixels they are sent, and the upscale rule for them.

:func:`acrop_boxes` cuts boxes out of a query image (decoded once) as new
:class:`~rir.inputs.images.QueryImage` objects; :func:`upscale_factor` is the rule by
which small crops are enlarged before a web engine sees them, and why.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from PIL import Image

from rir._runtime import in_thread
from rir.inputs.images import DEFAULT_MAX_BYTES, DEFAULT_MAX_PIXELS, QueryImage, aload_image
from rir.inputs.region import Box

__all__ = ["MAX_UPSCALE", "WEB_MIN_SHORT_SIDE", "acrop_boxes", "upscale_factor"]

#: Crops sent to web engines are enlarged until their shorter side is this long...
WEB_MIN_SHORT_SIDE = 480
#: ...but by at most this factor (more only magnifies blur), and to at most this long side.
MAX_UPSCALE = 4.0
_MAX_UPSCALED_SIDE = 2048


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

    pieces = await in_thread(cut)
    crops = []
    for box, piece in zip(boxes, pieces, strict=True):
        crop = await aload_image(piece, max_bytes=max(DEFAULT_MAX_BYTES, 2 * len(image.data)),
                                 max_pixels=max(DEFAULT_MAX_PIXELS, image.width * image.height))
        shown = ",".join(str(v) for v in box)
        crops.append(dataclasses.replace(crop, origin=f"{image.origin} [region {shown}]",
                                         url=None, path=None))
    return crops
