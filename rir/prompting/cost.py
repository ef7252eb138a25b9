"""How big a prompt is, per context mode: text tokens, images and their token cost.

The context modes trade cost for information: ``text`` adds a few hundred tokens
of titles, ``screenshot`` adds one large image, ``thumbnails`` several small
ones. :func:`measure_prompt` sizes a built :class:`~rir.prompting.spec.PromptSpec`;
:func:`ameasure_modes` builds the prompt for each mode from one search result and
sizes them all, so users can choose (``benchmarks/context_tokens.py`` prints it).

Text is counted with tiktoken for OpenAI models when the encoding is available:
tiktoken downloads it once and caches it, and only the calls that pass
``allow_download=True`` (the benchmark, ``rir ask --dry-run``) may trigger that
download. Otherwise the size is reported in characters and ``tokenizer`` says so.
Image tokens use OpenAI's published tile formula for the models listed in
:data:`OPENAI_IMAGE_TOKENS`; other providers price images their own way, so their
image cost is left as ``None``.
"""

from __future__ import annotations

import functools
import hashlib
import io
import logging
import math
import os
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from PIL import Image, UnidentifiedImageError

from rir.inputs.images import QueryImage
from rir.prompting.spec import CONTEXT_MODES, ImagePart, PromptSpec, TextPart
from rir.results.models import SearchResult

__all__ = [
    "OPENAI_IMAGE_TOKENS",
    "ContextSize",
    "ameasure_modes",
    "count_text_tokens",
    "format_table",
    "image_tokens",
    "measure_prompt",
]

logger = logging.getLogger(__name__)

# model prefix -> (base tokens, tokens per 512 px tile) for detail="high"/"auto";
# from OpenAI's vision pricing guide. Longest prefix wins ("gpt-4o-mini" before "gpt-4o").
OPENAI_IMAGE_TOKENS: dict[str, tuple[int, int]] = {
    "gpt-4o-mini": (2833, 5667),
    "gpt-4o": (85, 170),
    "chatgpt-4o": (85, 170),
    "gpt-4-turbo": (85, 170),
    "gpt-4-vision": (85, 170),
    "gpt-4.5": (85, 170),
}


@dataclass(frozen=True)
class ContextSize:
    """The size of one prompt.

    ``text_tokens`` counts the system text, the retrieved context and the question
    (``None`` when no tokenizer was available: use ``text_chars``);
    ``image_tokens`` is the sum over the images (``None`` when the model's image
    pricing is unknown); ``context_chars`` is the retrieved text alone.
    """

    mode: str
    model: str | None
    tokenizer: str
    text_chars: int
    context_chars: int
    images: int
    image_pixels: tuple[tuple[int, int], ...]
    text_tokens: int | None
    image_tokens: int | None

    @property
    def total_tokens(self) -> int | None:
        if self.text_tokens is None or (self.images and self.image_tokens is None):
            return None
        return self.text_tokens + (self.image_tokens or 0)

    def describe(self) -> str:
        """One line, e.g. ``text: 412 tokens of text + 1 image (~765 tokens) = ~1,177 tokens``."""
        if self.text_tokens is not None:
            text = f"{self.text_tokens:,} tokens of text ({self.tokenizer})"
        else:
            text = f"{self.text_chars:,} characters of text"
        images = f"{self.images} image{'s' if self.images != 1 else ''}"
        if self.images and self.image_tokens is not None:
            images += f" (~{self.image_tokens:,} tokens)"
        total = f" = ~{self.total_tokens:,} tokens" if self.total_tokens is not None else ""
        return f"{self.mode}: {text} + {images}{total}"

    def as_dict(self) -> dict[str, Any]:
        return {"mode": self.mode, "model": self.model, "tokenizer": self.tokenizer,
                "text_chars": self.text_chars, "context_chars": self.context_chars,
                "images": self.images, "text_tokens": self.text_tokens,
                "image_tokens": self.image_tokens, "total_tokens": self.total_tokens}


def _model_name(model: str | None) -> str | None:
    if not model:
        return None
    provider, sep, name = model.partition(":")
    return (name if sep else provider).strip().lower() or None


_TIKTOKEN_BLOBS = {
    name: f"https://openaipublic.blob.core.windows.net/encodings/{name}.tiktoken"
    for name in ("o200k_base", "cl100k_base")
}


def _tiktoken_cached(encoding_name: str) -> bool:
    """Whether tiktoken can load ``encoding_name`` without downloading it."""
    blob = _TIKTOKEN_BLOBS.get(encoding_name)
    if blob is None:
        return False
    cache_dir = os.environ.get("TIKTOKEN_CACHE_DIR", os.environ.get(
        "DATA_GYM_CACHE_DIR", os.path.join(tempfile.gettempdir(), "data-gym-cache")))
    return bool(cache_dir) and os.path.isfile(
        os.path.join(cache_dir, hashlib.sha1(blob.encode()).hexdigest()))


@functools.lru_cache(maxsize=8)
def _encoding(model_name: str, allow_download: bool = False) -> Any | None:
    """The tiktoken encoding for an OpenAI model, or None (not installed, unknown model, or
    not cached locally while ``allow_download`` is False)."""
    try:
        import tiktoken
    except ImportError:
        return None
    try:
        encoding_name = tiktoken.encoding_name_for_model(model_name)
    except KeyError:
        return None  # not an OpenAI model name tiktoken knows
    if not allow_download and not _tiktoken_cached(encoding_name):
        return None
    try:
        return tiktoken.get_encoding(encoding_name)
    except Exception as exc:  # noqa: BLE001 - tiktoken's first use downloads; offline it fails
        logger.info("tiktoken could not load %s (%s: %s); counting characters",
                    encoding_name, type(exc).__name__, exc)
        return None


def count_text_tokens(text: str, model: str | None, *,
                      allow_download: bool = False) -> tuple[int | None, str]:
    """(tokens, tokenizer name) for ``text``, or (None, "characters") without a tokenizer.

    tiktoken downloads an encoding on first use; that only happens with
    ``allow_download=True`` (the benchmark, ``rir ask --dry-run``), so answering a
    question never makes a hidden network call.
    """
    name = _model_name(model)
    encoding = _encoding(name, allow_download) if name else None
    if encoding is None:
        return None, "characters"
    return len(encoding.encode(text, disallowed_special=())), str(encoding.name)


def image_tokens(width: int, height: int, model: str | None, *, detail: str = "auto") -> int | None:
    """OpenAI's token cost of one ``width`` x ``height`` image, or None for unknown models."""
    name = _model_name(model)
    prices = next((OPENAI_IMAGE_TOKENS[p] for p in sorted(OPENAI_IMAGE_TOKENS, key=len,
                                                            reverse=True)
                   if name and name.startswith(p)), None)
    if prices is None:
        return None
    base, per_tile = prices
    if detail == "low":
        return base
    scale = min(1.0, 2048 / max(width, height))
    width, height = width * scale, height * scale
    scale = min(1.0, 768 / min(width, height))
    width, height = width * scale, height * scale
    return base + per_tile * math.ceil(width / 512) * math.ceil(height / 512)


def _pixels(part: ImagePart) -> tuple[int, int]:
    try:
        with Image.open(io.BytesIO(part.data)) as image:
            return image.size
    except (UnidentifiedImageError, OSError):
        return (0, 0)


def measure_prompt(spec: PromptSpec, model: str | None = "gpt-4o", *,
                   detail: str = "auto", allow_download: bool = False) -> ContextSize:
    """Size ``spec`` as ``model`` would see it (``"openai:gpt-4o"`` or ``"gpt-4o"``)."""
    text = "\n".join([spec.system, *(p.text for p in spec.parts if isinstance(p, TextPart))])
    tokens, tokenizer = count_text_tokens(text, model, allow_download=allow_download)
    sizes = tuple(_pixels(p) for p in spec.images)
    costs = [image_tokens(w, h, model, detail=detail) for w, h in sizes]
    total_images = None if any(c is None for c in costs) else sum(c or 0 for c in costs)
    return ContextSize(mode=spec.mode, model=model, tokenizer=tokenizer, text_chars=len(text),
                       context_chars=spec.context_chars, images=len(sizes), image_pixels=sizes,
                       text_tokens=tokens, image_tokens=total_images)


async def ameasure_modes(
    question: str,
    *,
    image: QueryImage,
    result: SearchResult,
    modes: Iterable[str] = CONTEXT_MODES,
    model: str | None = "gpt-4o",
    allow_private_urls: bool = False,
    allow_download: bool = False,
    **prompt_options: Any,
) -> dict[str, ContextSize]:
    """Build the prompt in each of ``modes`` for the same result and size it.

    ``prompt_options``: other :class:`rir.prompting.build.PromptOptions` settings
    (``max_hits``, ...).
    """
    from rir.prompting.build import PromptOptions, abuild_context_prompt

    sizes: dict[str, ContextSize] = {}
    for mode in modes:
        options = PromptOptions(context=mode, **prompt_options)
        spec = await abuild_context_prompt(question, image=image, result=result,
                                           options=options,
                                           allow_private_urls=allow_private_urls)
        sizes[mode] = measure_prompt(spec, model, allow_download=allow_download)
    return sizes


def format_table(sizes: Sequence[ContextSize]) -> str:
    """A plain-text table of sizes, one row per mode."""
    rows = [("mode", "text tokens", "text chars", "images", "image tokens", "total tokens")]
    for size in sizes:
        rows.append((size.mode,
                     "n/a" if size.text_tokens is None else f"{size.text_tokens:,}",
                     f"{size.text_chars:,}", str(size.images),
                     "n/a" if size.image_tokens is None else f"{size.image_tokens:,}",
                     "n/a" if size.total_tokens is None else f"{size.total_tokens:,}"))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(w) if i == 0 else cell.rjust(w)
                               for i, (cell, w) in enumerate(zip(row, widths, strict=True)))
                     for row in rows)
