"""Fingerprinting images for the index, one at a time or a folder on every core.

Feature extraction (decoding, ORB, DCT) is CPU-bound Python + OpenCV work, so a
folder is fingerprinted on a process pool; the parent only writes to the
database. Small folders stay in-process, where starting workers would cost
more than it saves.
"""

from __future__ import annotations

import io
import logging
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rir.engines.local import features as F
from rir.engines.local.records import ImageData
from rir.errors import ConfigurationError, RIRError
from rir.inputs.images import QueryImage, load_image

__all__ = [
    "IMAGE_SUFFIXES",
    "AddReport",
    "fingerprint",
    "fingerprint_files",
    "list_images",
    "resolve_workers",
]

logger = logging.getLogger(__name__)

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp", ".tif", ".tiff"}
THUMB_SIDE = 160
_POOL_FROM = 16  # files; below this a process pool's start-up costs more than it saves

Progress = Callable[[int, int], None]


@dataclass
class AddReport:
    """What :meth:`LocalIndex.add_folder` did: page ids added and files that failed, with why."""

    added: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)

    def __str__(self) -> str:
        count = len(self.added)
        return f"{count} image{'' if count == 1 else 's'} indexed, {len(self.failed)} failed"


def fingerprint(image: QueryImage) -> ImageData:
    """Features, size and thumbnail of a validated image (no embedding)."""
    pil = F.load_for_features(image.data)
    thumb = pil.convert("RGB")
    thumb.thumbnail((THUMB_SIDE, THUMB_SIDE))
    buffer = io.BytesIO()
    thumb.save(buffer, "JPEG", quality=80)
    return ImageData(sha256=image.sha256, width=image.width, height=image.height,
                     features=F.extract_index_features(pil), thumbnail=buffer.getvalue())


def _fingerprint_file(path: Path) -> tuple[ImageData | None, str | None]:
    try:
        return fingerprint(load_image(path)), None
    except RIRError as exc:
        return None, str(exc)
    except (OSError, ValueError) as exc:  # a file that decodes half-way, or vanished
        return None, f"{type(exc).__name__}: {exc}"


def list_images(root: Path, *, recursive: bool) -> list[Path]:
    if not root.is_dir():
        raise ConfigurationError(f"Not a folder: '{root}'; pass a directory of images.")
    pattern = "**/*" if recursive else "*"
    files = sorted(p for p in root.glob(pattern)
                   if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise ConfigurationError(
            f"No images in '{root}' (looked for {', '.join(sorted(IMAGE_SUFFIXES))})."
        )
    return files


def resolve_workers(workers: int | None) -> int:
    if workers is None:
        return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                   else os.cpu_count() or 1)
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ConfigurationError(f"workers must be a positive integer or None (every core), "
                                 f"got {workers!r}.")
    return workers


def fingerprint_files(
    files: Sequence[Path], *, workers: int
) -> Iterator[tuple[Path, ImageData | None, str | None]]:
    """(file, fingerprint or None, error) for each file, in order, on ``workers`` processes.

    Workers are spawned, not forked: forking a process whose threads (the event-loop
    thread, OpenCV's pool) hold locks can hang the children. If the pool cannot run
    (e.g. a script without an ``if __name__ == "__main__":`` guard), the remaining
    files are fingerprinted in this process instead.
    """
    done = 0
    if workers > 1 and len(files) >= _POOL_FROM:
        # Imported here: searching (which imports this module) never starts a pool.
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor
        from concurrent.futures.process import BrokenProcessPool

        context = multiprocessing.get_context("spawn")
        try:
            with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
                chunk = max(1, min(16, len(files) // (workers * 8)))
                for path, (image, error) in zip(
                        files, pool.map(_fingerprint_file, files, chunksize=chunk), strict=False):
                    yield path, image, error
                    done += 1
            return
        except BrokenProcessPool as exc:
            logger.warning("process pool failed (%s); fingerprinting the remaining %d files "
                           "in this process", exc, len(files) - done)
    for path in files[done:]:
        yield (path, *_fingerprint_file(path))
