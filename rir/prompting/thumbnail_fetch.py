"""Downloading hit thumbnails for the ``thumbnails`` context mode and result sheets.

Thumbnails are untrusted URLs: they go through :func:`rir.inputs.images.aload_image`
(SSRF guard, byte and pixel caps, real image check). ``data:`` thumbnails are
decoded locally. A thumbnail that fails is skipped and logged; the others are
still returned.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from rir.errors import RIRError
from rir.inputs.images import aload_image
from rir.prompting.spec import Thumbnail
from rir.results.models import SearchHit

__all__ = ["afetch_thumbnails"]

logger = logging.getLogger(__name__)


async def afetch_thumbnails(
    hits: Sequence[SearchHit],
    *,
    max_n: int = 6,
    max_side: int = 256,
    allow_private_urls: bool = False,
    timeout_s: float = 8.0,
    concurrency: int = 4,
    max_bytes: int = 2_000_000,
) -> list[Thumbnail]:
    """Fetch up to ``max_n`` thumbnails (hits without one are skipped), in hit order."""
    semaphore = asyncio.Semaphore(concurrency)

    async def fetch(hit: SearchHit) -> Thumbnail | None:
        source = hit.thumbnail_url or hit.image_url
        if not source:
            return None
        async with semaphore:
            try:
                image = await aload_image(source, max_bytes=max_bytes, timeout_s=timeout_s,
                                          allow_private_urls=allow_private_urls,
                                          allow_local_files=False)
                small = await asyncio.to_thread(image.downscaled, max_side,
                                                formats=("image/jpeg", "image/png"))
            except RIRError as exc:
                logger.info("skipping the thumbnail of hit %d: %s", hit.position, exc)
                return None
        return Thumbnail(hit=hit, data=small.data, mime_type=small.mime_type)

    fetched = await asyncio.gather(*(fetch(hit) for hit in hits[:max_n]))
    return [t for t in fetched if t is not None]
