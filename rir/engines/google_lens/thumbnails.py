"""Thumbnails of result cards: inline ``data:`` images and the image maps in scripts.

Google ships most thumbnails outside the ``<img>`` tags: small ones as base64
strings assigned by ``_setImagesSrc(ids, 'data:image/...')`` calls, others as a
``google.ldi = {"dimg_…": "https://encrypted-tbn0.gstatic.com/…"}`` map applied
after load. A browser has already applied both by the time we read the DOM; a
page fetched or saved without running its scripts has not, so both maps are read
here and looked up by the image's ``id`` (or ``data-iid``).
"""

from __future__ import annotations

import json
import re
from urllib.parse import urlsplit

from lxml import etree

__all__ = ["ImageMaps", "is_favicon", "read_image_maps", "thumbnail_of"]

ImageMaps = dict[str, str]

_SET_IMAGES = re.compile(
    r"var\s+s\s*=\s*'(data:image/[a-z+.-]+;base64,[^']+)'\s*;\s*var\s+ii\s*=\s*\[([^\]]*)\]"
)
_LDI = re.compile(r"google\.ldi\s*=\s*(\{[^{}]*\})")
_JS_ESCAPE = re.compile(r"\\x([0-9a-fA-F]{2})|\\u([0-9a-fA-F]{4})")
_PX = re.compile(r"(?:^|;)\s*(width|height)\s*:\s*(\d+(?:\.\d+)?)px", re.IGNORECASE)
# A 1x1 transparent GIF or similar placeholder is far below this many characters.
_MIN_DATA_URI = 200
_FAVICON_MAX_PX = 32


def _unescape_js(text: str) -> str:
    return _JS_ESCAPE.sub(lambda m: chr(int(m.group(1) or m.group(2), 16)), text)


def read_image_maps(page: str) -> ImageMaps:
    """Image id -> thumbnail (``data:`` URI or https URL) from the page's scripts."""
    images: ImageMaps = {}
    if "_setImagesSrc" in page:
        for match in _SET_IMAGES.finditer(page):
            data_uri = _unescape_js(match.group(1))
            for image_id in re.findall(r"'([^']+)'", match.group(2)):
                images.setdefault(image_id, data_uri)
    if "google.ldi" in page:
        for match in _LDI.finditer(page):
            try:
                mapping = json.loads(match.group(1))
            except ValueError:
                continue  # not JSON after all: the script changed shape; the DOM still has src
            for image_id, url in mapping.items():
                if isinstance(url, str) and url.startswith("https://"):
                    images.setdefault(str(image_id), url)
    return images


def _pixels(element: etree._Element) -> list[float]:
    sizes = [float(m.group(2)) for m in _PX.finditer(element.get("style") or "")]
    for attribute in ("width", "height"):
        value = element.get(attribute)
        if value and value.isdigit():
            sizes.append(float(value))
    return sizes


def is_favicon(image: etree._Element) -> bool:
    """Whether ``image`` is a site icon rather than a result thumbnail.

    Site icons sit in (or are) boxes of at most 32 px, or come from a favicon service.
    """
    source = (image.get("src") or "") + " " + (image.get("data-src") or "")
    if "favicon" in source.lower():
        return True
    element: etree._Element | None = image
    for _ in range(3):  # the img, its box, and the box's box
        if element is None:
            break
        sizes = _pixels(element)
        if sizes and max(sizes) <= _FAVICON_MAX_PX:
            return True
        element = element.getparent()
    return False


def _usable(source: str | None) -> str | None:
    if not source:
        return None
    source = source.strip()
    if source.startswith("data:image/"):
        return source if len(source) >= _MIN_DATA_URI else None
    try:
        parts = urlsplit(source)
    except ValueError:
        return None
    # Relative sources are not kept: in saved pages they name files next to the
    # saved HTML ("./Page_files/images(3)"), which mean nothing to anyone else.
    return source if parts.scheme in ("http", "https") and parts.netloc else None


def thumbnail_of(image: etree._Element, maps: ImageMaps) -> str | None:
    """The best available source of ``image``: script map, ``data-src``, then ``src``."""
    for key in (image.get("id"), image.get("data-iid")):
        if key and key in maps:
            return maps[key]
    return _usable(image.get("data-src")) or _usable(image.get("src"))
