"""Image inputs: one loader for URLs, data URIs, paths, bytes, files and PIL images.

``load_image`` / ``aload_image`` turn any supported input into a validated
:class:`QueryImage`: real image content (sniffed, not trusted from the name),
an accepted format, a byte cap (enforced while streaming URLs), a pixel cap
against decompression bombs, and EXIF orientation applied. What is accepted at all
(local files, private URLs) and the limits come from an
:class:`~rir.inputs.policy.InputPolicy`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import os
import re
import stat
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Union
from urllib.parse import unquote_to_bytes, urlsplit

from PIL import Image, ImageOps, UnidentifiedImageError

from rir._runtime import in_thread, run_inline, run_sync
from rir.errors import ImageTooLargeError, InvalidImageError
from rir.inputs.describe import describe_source
from rir.inputs.policy import DEFAULT_MAX_BYTES, DEFAULT_MAX_PIXELS, InputPolicy, input_policy

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_PIXELS",
    "SUPPORTED_FORMATS",
    "ImageInput",
    "QueryImage",
    "aload_image",
    "load_image",
]

# PIL format name -> MIME type. MPO is the multi-picture JPEG phones write.
SUPPORTED_FORMATS: dict[str, str] = {
    "JPEG": "image/jpeg",
    "MPO": "image/jpeg",
    "PNG": "image/png",
    "WEBP": "image/webp",
    "GIF": "image/gif",
    "BMP": "image/bmp",
    "TIFF": "image/tiff",
}
_EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp", "image/gif": "gif",
               "image/bmp": "bmp", "image/tiff": "tiff"}
_EXIF_ORIENTATION = 0x0112
# What a developer's own call reads (local files included); see rir.inputs.policy.
_DEVELOPER_DEFAULT = InputPolicy()
_DECODE_IN_THREAD_ABOVE = 512 * 1024
_STD_B64 = re.compile(r"[A-Za-z0-9+/]*={0,2}")
_URLSAFE_B64 = re.compile(r"[A-Za-z0-9_-]*={0,2}")


@dataclass(frozen=True, repr=False)
class QueryImage:
    """A validated query image: its bytes plus what we know about them."""

    data: bytes
    mime_type: str
    width: int
    height: int
    sha256: str
    origin: str = field(default="bytes")
    url: str | None = None
    path: Path | None = None

    @property
    def format(self) -> str:
        return next(k for k, v in SUPPORTED_FORMATS.items() if v == self.mime_type)

    @property
    def extension(self) -> str:
        return _EXTENSIONS[self.mime_type]

    @property
    def filename(self) -> str:
        """A file name for uploads (``image.jpg``, ``photo.png``, ...)."""
        stem = self.path.stem if self.path else "image"
        return f"{stem}.{self.extension}"

    def as_data_uri(self) -> str:
        return f"data:{self.mime_type};base64,{base64.b64encode(self.data).decode('ascii')}"

    def as_base64(self) -> str:
        return base64.b64encode(self.data).decode("ascii")

    def to_pil(self) -> Image.Image:
        """The image decoded by Pillow (first frame for animations)."""
        image = Image.open(io.BytesIO(self.data))
        image.load()
        return image

    def downscaled(
        self,
        max_side: int = 1600,
        *,
        max_bytes: int | None = None,
        formats: tuple[str, ...] = ("image/jpeg", "image/png", "image/webp"),
        quality: int = 90,
    ) -> QueryImage:
        """A copy for uploading: at most ``max_side`` pixels a side, in one of ``formats``.

        Returns ``self`` when it already fits; otherwise re-encodes as JPEG (PNG when
        the image has transparency and PNG is allowed).
        """
        fits_size = max(self.width, self.height) <= max_side
        fits_bytes = max_bytes is None or len(self.data) <= max_bytes
        if fits_size and fits_bytes and self.mime_type in formats:
            return self
        image = self.to_pil()
        image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
        has_alpha = image.mode in ("RGBA", "LA") or "transparency" in image.info
        if has_alpha and "image/png" in formats:
            data, mime = _encode(image, "PNG"), "image/png"
        else:
            data, mime = _encode(_flatten(image), "JPEG", quality=quality), "image/jpeg"
            while max_bytes is not None and len(data) > max_bytes and quality > 40:
                quality -= 15
                data = _encode(_flatten(image), "JPEG", quality=quality)
        return QueryImage(
            data=data,
            mime_type=mime,
            width=image.width,
            height=image.height,
            sha256=hashlib.sha256(data).hexdigest(),
            origin=f"{self.origin} (downscaled)",
            url=None,
            path=self.path,
        )

    def __repr__(self) -> str:
        return (
            f"QueryImage({self.mime_type}, {self.width}x{self.height}, {len(self.data):,} bytes, "
            f"sha256={self.sha256[:12]}…, origin={self.origin!r})"
        )


ImageInput = Union[  # noqa: UP007 - a runtime alias; "|" of these types fails on Python 3.10
    str, os.PathLike, bytes, bytearray, memoryview, IO[bytes], Image.Image, QueryImage
]


async def aload_image(
    source: ImageInput | Any,
    *,
    policy: InputPolicy | None = None,
    max_bytes: int | None = None,
    max_pixels: int | None = None,
    timeout_s: float | None = None,
    max_redirects: int | None = None,
    allow_private_urls: bool | None = None,
    allow_local_files: bool | None = None,
) -> QueryImage:
    """Load and validate an image from any supported input (async).

    ``source``: an http(s) URL, a ``data:`` URI, a local path (``str`` or ``Path``, or a
    ``file://`` URL), ``bytes``, a binary file object, a PIL image, a numpy array or a
    :class:`QueryImage` (returned unchanged). ``policy`` (default: ``InputPolicy()``, which
    reads local files) says what is accepted and the limits; the keywords override its
    settings of the same names. A refused local path and a refused ``file://`` URL get the
    same error (one rule for every entry point).
    """
    if isinstance(source, QueryImage):
        return source
    policy = input_policy(policy, _DEVELOPER_DEFAULT, max_bytes=max_bytes,
                          max_pixels=max_pixels, timeout_s=timeout_s,
                          max_redirects=max_redirects, allow_private_urls=allow_private_urls,
                          allow_local_files=allow_local_files)
    max_bytes, max_pixels = policy.max_bytes, policy.max_pixels
    if isinstance(source, str):
        return await _load_string(source, policy)
    if isinstance(source, os.PathLike):
        return await _load_path(policy.local_path(source), max_bytes=max_bytes,
                                max_pixels=max_pixels, shown=describe_source(source))
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        _check_size(data, describe_source(source), max_bytes)
        return await _decode_async(data, origin=describe_source(source), max_pixels=max_pixels)
    if isinstance(source, Image.Image):
        return await in_thread(_from_pil, source, max_bytes, max_pixels)
    if hasattr(source, "__array_interface__"):
        try:
            pil = Image.fromarray(source)
        except (TypeError, ValueError) as exc:
            raise InvalidImageError(
                f"Cannot turn the array (shape {getattr(source, 'shape', '?')}) into an image: "
                f"{exc}. Pass an HxW or HxWx3/4 uint8 array."
            ) from None
        return await in_thread(_from_pil, pil, max_bytes, max_pixels)
    if hasattr(source, "read"):
        data = await in_thread(source.read, max_bytes + 1)
        if not isinstance(data, bytes):
            raise InvalidImageError(
                f"The {describe_source(source)} returned {type(data).__name__}, not bytes; "
                "open it in binary mode ('rb')."
            )
        _check_size(data, describe_source(source), max_bytes)
        return await _decode_async(data, origin=describe_source(source), max_pixels=max_pixels)
    raise InvalidImageError(
        f"Unsupported image input of type {type(source).__name__}; pass an http(s) URL, a data: "
        "URI, a file path, bytes, a binary file object or a PIL image."
    )


def load_image(source: ImageInput | Any, **options: Any) -> QueryImage:
    """Load and validate an image from any supported input. See :func:`aload_image`.

    The same code as :func:`aload_image`: a URL is fetched on the background event loop,
    anything else is read in this thread, without a loop.
    """
    if isinstance(source, QueryImage):
        return source
    if isinstance(source, str) and _is_web_url(source):
        return run_sync(aload_image(source, **options))
    return run_inline(aload_image(source, **options))


async def _load_string(source: str, policy: InputPolicy) -> QueryImage:
    text = source.strip()
    if not text:
        raise InvalidImageError("The image input is an empty string; pass a URL, data URI or path.")
    lowered = text[:12].lower()
    if lowered.startswith("data:"):
        data = _parse_data_uri(text, policy.max_bytes)
        return await _decode_async(data, origin=describe_source(text),
                                   max_pixels=policy.max_pixels)
    if _is_web_url(text):
        from rir.inputs.urlfetch import fetch_url  # httpx: only when a URL is fetched

        response = await fetch_url(
            text,
            max_bytes=policy.max_bytes,
            timeout_s=policy.timeout_s,
            max_redirects=policy.max_redirects,
            allow_private_urls=policy.allow_private_urls,
            accept=_accept_image_content_type,
            headers={"Accept": "image/avif,image/webp,image/apng,image/*,*/*;q=0.8"},
        )
        image = await _decode_async(response.content, origin=describe_source(text),
                                    max_pixels=policy.max_pixels)
        return _replace(image, url=text)
    if lowered.startswith("file://"):
        # A file:// URL is a local path by another name: the policy's local-file rule
        # applies (below). Only this machine's files: a host would mean another one.
        parts = urlsplit(text)
        if parts.netloc.lower() not in ("", "localhost"):
            raise InvalidImageError(
                f"The {describe_source(source)} names the host '{parts.netloc}'; "
                "only this machine's files can be read (file:///path/to/image.jpg)."
            )
        text = unquote_to_bytes(parts.path).decode("utf-8", "replace")
    elif "://" in text[:16]:
        scheme = text.split("://", 1)[0]
        raise InvalidImageError(
            f"Unsupported URL scheme '{scheme}' in {describe_source(source)}; "
            "pass an http(s) URL, a data: URI or a local path."
        )
    return await _load_path(policy.local_path(text), max_bytes=policy.max_bytes,
                            max_pixels=policy.max_pixels, shown=describe_source(text))


def _is_web_url(text: str) -> bool:
    """Whether ``text`` is an http(s) URL: the one kind of input fetched over the network
    (so :func:`load_image` runs it on the event loop, and everything else inline)."""
    return text.lstrip()[:8].lower().startswith(("http://", "https://"))


def _accept_image_content_type(content_type: str) -> str | None:
    if content_type.startswith("image/") or content_type in ("", "application/octet-stream",
                                                             "binary/octet-stream"):
        return None
    if content_type in ("text/html", "application/xhtml+xml"):
        return ("returned an HTML page, not an image; pass the direct image address "
                "(right-click the image, 'Copy image address').")
    return f"returned content of type '{content_type}', not an image; pass a direct image URL."


def _parse_data_uri(text: str, max_bytes: int) -> bytes:
    shown = describe_source(text)
    header, sep, payload = text.partition(",")
    if not sep:
        raise InvalidImageError(
            f"Malformed {shown}: no ',' separates the header from the data. "
            "Expected 'data:image/png;base64,<data>'."
        )
    params = header[5:].split(";")
    media_type = params[0].strip().lower()
    if media_type and not media_type.startswith("image/"):
        raise InvalidImageError(
            f"The {shown} declares '{media_type}', not an image type; expected data:image/…"
        )
    # Each base64 character carries 6 bits: reject oversized payloads before decoding.
    if len(payload) * 3 // 4 > max_bytes + 3:
        raise ImageTooLargeError(
            f"The {shown} holds more than the {max_bytes:,}-byte limit; pass a smaller image "
            "or raise max_bytes."
        )
    if "base64" in (p.strip().lower() for p in params[1:]):
        cleaned = "".join(unquote_to_bytes(payload).decode("ascii", "replace").split())
        padded = cleaned.rstrip("=") + "=" * (-len(cleaned.rstrip("=")) % 4)
        try:
            if _URLSAFE_B64.fullmatch(cleaned) and not _STD_B64.fullmatch(cleaned):
                data = base64.urlsafe_b64decode(padded)
            else:
                data = base64.b64decode(padded, validate=True)
        except (binascii.Error, ValueError):
            raise InvalidImageError(
                f"Malformed {shown}: the payload is not valid base64."
            ) from None
    else:
        data = unquote_to_bytes(payload)
    _check_size(data, shown, max_bytes)
    return data


async def _load_path(path: Path, *, max_bytes: int, max_pixels: int, shown: str) -> QueryImage:
    try:
        info = await in_thread(path.stat)
    except FileNotFoundError:
        raise InvalidImageError(f"No such file: {shown}; check the path.") from None
    except OSError as exc:
        raise InvalidImageError(f"Cannot read {shown}: {exc.strerror or exc}.") from None
    if not stat.S_ISREG(info.st_mode):
        raise InvalidImageError(f"The {shown} is not a regular file; pass an image file.")
    if info.st_size > max_bytes:
        raise ImageTooLargeError(
            f"The {shown} is {info.st_size:,} bytes, over the {max_bytes:,}-byte limit; "
            "pass a smaller image or raise max_bytes."
        )
    try:
        data = await in_thread(path.read_bytes)
    except OSError as exc:
        raise InvalidImageError(f"Cannot read {shown}: {exc.strerror or exc}.") from None
    image = await _decode_async(data, origin=shown, max_pixels=max_pixels)
    return _replace(image, path=Path(os.path.abspath(path)))


def _check_size(data: bytes, shown: str, max_bytes: int) -> None:
    if len(data) > max_bytes:
        raise ImageTooLargeError(
            f"The {shown} is over the {max_bytes:,}-byte limit; pass a smaller image or raise "
            "max_bytes."
        )


async def _decode_async(data: bytes, *, origin: str, max_pixels: int) -> QueryImage:
    if len(data) > _DECODE_IN_THREAD_ABOVE:
        return await in_thread(_decode, data, origin, max_pixels)
    return _decode(data, origin, max_pixels)


def _sniff_non_image(data: bytes) -> str | None:
    head = data[:512].lstrip().lower()
    if head.startswith((b"<!doctype html", b"<html", b"<head", b"<body")):
        return "an HTML page"
    if head.startswith(b"<?xml") or head.startswith(b"<svg"):
        return "SVG/XML (vector images are not supported; export a PNG)"
    if head.startswith(b"%pdf"):
        return "a PDF document"
    if head.startswith((b"{", b"[")):
        return "JSON text"
    return None


def _decode(data: bytes, origin: str, max_pixels: int) -> QueryImage:
    if not data:
        raise InvalidImageError(f"The image input ({origin}) holds no data; pass an image.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            image_format = image.format or ""
            width, height = image.size
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise InvalidImageError(
            f"The {origin} declares an enormous pixel count (a possible decompression bomb); "
            "refusing to decode it."
        ) from None
    except UnidentifiedImageError:
        kind = _sniff_non_image(data)
        what = f"it looks like {kind}" if kind else "its content is not a recognised image format"
        raise InvalidImageError(
            f"The {origin} is not an image: {what}. Pass a JPEG, PNG, WebP, GIF, BMP or TIFF."
        ) from None
    except (OSError, ValueError, SyntaxError) as exc:
        raise InvalidImageError(
            f"The {origin} is truncated or corrupt ({exc}); re-save or re-download the image."
        ) from None
    if image_format not in SUPPORTED_FORMATS:
        raise InvalidImageError(
            f"The {origin} is a {image_format or 'unknown'} image, which is not supported; "
            "convert it to JPEG, PNG, WebP, GIF, BMP or TIFF."
        )
    if width * height > max_pixels:
        raise ImageTooLargeError(
            f"The {origin} is {width}x{height} = {width * height / 1e6:.0f} megapixels, over the "
            f"{max_pixels / 1e6:.0f} MP limit (a possible decompression bomb); downscale it or "
            "raise max_pixels."
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise InvalidImageError(
            f"The {origin} is a possible decompression bomb; refusing to decode it."
        ) from None
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        raise InvalidImageError(
            f"The {origin} is truncated or corrupt ({exc}); re-save or re-download the image."
        ) from None
    if width == 0 or height == 0:
        raise InvalidImageError(f"The {origin} has no pixels ({width}x{height}).")
    mime = SUPPORTED_FORMATS[image_format]
    orientation = image.getexif().get(_EXIF_ORIENTATION, 1)
    if orientation in (2, 3, 4, 5, 6, 7, 8):
        upright = ImageOps.exif_transpose(image)
        save_as = "JPEG" if mime == "image/jpeg" else "PNG"
        data = _encode(upright, save_as, quality=95)
        mime = SUPPORTED_FORMATS[save_as]
        width, height = upright.size
    return QueryImage(
        data=data,
        mime_type=mime,
        width=width,
        height=height,
        sha256=hashlib.sha256(data).hexdigest(),
        origin=origin,
    )


def _from_pil(image: Image.Image, max_bytes: int, max_pixels: int) -> QueryImage:
    if image.width * image.height > max_pixels:
        raise InvalidImageError(
            f"The PIL image is {image.width}x{image.height}, over the {max_pixels / 1e6:.0f} MP "
            "limit; downscale it or raise max_pixels."
        )
    # Photos are encoded as high-quality JPEG (PNG costs ~70 ms per megapixel here);
    # images with transparency or a palette stay lossless.
    lossless = image.mode in ("RGBA", "LA", "PA", "P", "1") or "transparency" in image.info
    data = _encode(image, "PNG") if lossless else _encode(image, "JPEG", quality=95)
    if len(data) > max_bytes:
        data = _encode(_flatten(image), "JPEG", quality=90)
    _check_size(data, "PIL image", max_bytes)
    return _replace(_decode(data, "PIL image", max_pixels), origin="PIL image")


def _flatten(image: Image.Image) -> Image.Image:
    """RGB with transparency composited onto white (JPEG has no alpha)."""
    if image.mode in ("RGBA", "LA", "P", "PA") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image.convert("RGB") if image.mode != "RGB" else image


def _encode(image: Image.Image, fmt: str, *, quality: int = 95) -> bytes:
    buffer = io.BytesIO()
    if fmt == "JPEG":
        _flatten(image).save(buffer, "JPEG", quality=quality)
    elif fmt == "PNG":
        if image.mode not in ("1", "L", "LA", "I", "I;16", "P", "RGB", "RGBA"):
            image = image.convert("RGBA" if "A" in image.getbands() else "RGB")
        image.save(buffer, "PNG", compress_level=1)  # speed over size: it is re-read at once
    else:
        image.save(buffer, fmt)
    return buffer.getvalue()


def _replace(image: QueryImage, **changes: Any) -> QueryImage:
    from dataclasses import replace

    return replace(image, **changes)
