"""The framework-neutral prompt: context modes and the parts a multimodal prompt is made of.

:class:`PromptSpec` is a system text plus an ordered list of text and image parts;
the LangChain and LlamaIndex adapters only translate the parts into their message
types, so both frameworks send the model the same words. Context modes:

``text``        numbered titles, sites, whole URLs and captions of the hits
``screenshot``  the results page as an image (the paper's method)
``thumbnails``  the top hits as thumbnail + title pairs
``none``        no retrieval (the baseline for A/B tests)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Union, get_args

from rir.errors import ConfigurationError

if TYPE_CHECKING:
    from rir.results.models import SearchHit

__all__ = [
    "CONTEXT_MODES",
    "ContextMode",
    "ImagePart",
    "Part",
    "PromptSpec",
    "TextPart",
    "Thumbnail",
    "check_context_mode",
]

ContextMode = Literal["text", "screenshot", "thumbnails", "none"]
CONTEXT_MODES: tuple[str, ...] = get_args(ContextMode)


@dataclass(frozen=True)
class TextPart:
    text: str


@dataclass(frozen=True, repr=False)
class ImagePart:
    data: bytes
    mime_type: str
    label: str = "image"

    @property
    def base64(self) -> str:
        import base64

        return base64.b64encode(self.data).decode("ascii")

    @property
    def data_uri(self) -> str:
        return f"data:{self.mime_type};base64,{self.base64}"

    def __repr__(self) -> str:
        return f"ImagePart({self.label!r}, {self.mime_type}, {len(self.data):,} bytes)"


Part = Union[TextPart, ImagePart]  # noqa: UP007 - runtime alias, Python 3.10


@dataclass(frozen=True)
class Thumbnail:
    """A hit's thumbnail, already downloaded.

    See :func:`rir.prompting.thumbnail_fetch.afetch_thumbnails`.
    """

    hit: SearchHit
    data: bytes
    mime_type: str


@dataclass(frozen=True)
class PromptSpec:
    """A framework-neutral multimodal prompt: a system text and the user message parts."""

    system: str
    parts: tuple[Part, ...]
    mode: str
    question: str
    context_text: str = ""

    @property
    def images(self) -> list[ImagePart]:
        return [p for p in self.parts if isinstance(p, ImagePart)]

    @property
    def context_chars(self) -> int:
        """Characters of retrieved text context (what costs tokens besides the images)."""
        return len(self.context_text)

    def render_text(self) -> str:
        """A readable rendering with image placeholders (for logs, demos, --dry-run)."""
        lines = ["[system]", self.system, "", "[user]"]
        for part in self.parts:
            if isinstance(part, ImagePart):
                lines.append(f"<image: {part.label}, {part.mime_type}, {len(part.data):,} bytes, "
                             "sent inline as base64>")
            else:
                lines.append(part.text)
        return "\n".join(lines)


def check_context_mode(mode: str) -> str:
    if mode not in CONTEXT_MODES:
        raise ConfigurationError(
            f"Unknown context mode {mode!r}; choose one of {', '.join(CONTEXT_MODES)}."
        )
    return mode
