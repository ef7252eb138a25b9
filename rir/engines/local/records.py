"""What a local index holds: images (a fingerprint) and the pages each image is on.

One photo can appear in many articles. The index stores the picture once (its
features, sha256 and size) and a page record per place it appears (title,
caption, url, ...). A page is identified by its image and its url, or, for a
page without a url, by its image and its title: adding the same image with the
same url again updates that page instead of adding a second one.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rir.engines.local.features import IndexFeatures

__all__ = [
    "ImageData",
    "ImageInfo",
    "IndexedPage", "PageData",
    "image_id_for",
    "page_id_for",
    "page_key",
]


def image_id_for(sha256: str) -> str:
    """An image's id: derived from its bytes, so the same file always gets the same id."""
    return sha256[:20]


def page_key(url: str | None, title: str) -> str:
    """What makes two pages of one image the same page: the url, else the title."""
    return f"url:{url}" if url else f"title:{title}"


def page_id_for(image_id: str, key: str) -> str:
    return hashlib.sha256(f"{image_id}\0{key}".encode()).hexdigest()[:20]


@dataclass(frozen=True)
class IndexedPage:
    """A page an indexed image appears on (what :meth:`LocalIndex.pages` returns)."""

    page_id: str
    image_id: str
    title: str
    caption: str | None
    url: str | None
    image_url: str | None
    metadata: dict[str, Any]
    added_at: float


@dataclass(frozen=True)
class PageData:
    """The text of a page to add or update."""

    title: str
    caption: str | None = None
    url: str | None = None
    image_url: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return page_key(self.url, self.title)


@dataclass(frozen=True)
class ImageData:
    """An image's fingerprint, computed once and stored once however many pages show it."""

    sha256: str
    width: int
    height: int
    features: IndexFeatures
    thumbnail: bytes | None
    embedding: np.ndarray | None = None

    @property
    def image_id(self) -> str:
        return image_id_for(self.sha256)


@dataclass(frozen=True)
class ImageInfo:
    """What a search hit needs to know about an indexed image (its pages come separately)."""

    rowid: int
    image_id: str
    width: int
    height: int
    thumbnail: bytes | None
