"""From a search result to a ready prompt, for every context mode (framework-free).

:class:`PromptOptions` holds the settings of that step, once, for the LangChain
chain, the LlamaIndex query engine and :func:`abuild_context_prompt`, which does
the I/O a mode needs before :func:`rir.prompts.build_prompt` can run:
downloading thumbnails (``thumbnails`` mode) and, for ``screenshot`` mode with an
engine that took no screenshot, rendering the hits as a results sheet. Both
frameworks call it, so they send identical prompts.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from rir.errors import ConfigurationError
from rir.images import QueryImage
from rir.models import SearchResult
from rir.prompts import PromptSpec, Thumbnail, build_prompt, check_context_mode
from rir.render import SheetItem, render_results_sheet
from rir.thumbnails import afetch_thumbnails

__all__ = ["PromptOptions", "abuild_context_prompt", "render_screenshot_fallback"]


@dataclass(frozen=True)
class PromptOptions:
    """How search hits become the model's prompt.

    Attributes:
        context: ``"text"``, ``"screenshot"``, ``"thumbnails"`` or ``"none"`` (the baseline
            without retrieval).
        max_hits: hits placed in the context.
        max_context_chars: cap on the retrieved context's text.
        max_thumbnails: thumbnails sent in ``thumbnails`` mode.
        render_missing_screenshot: in ``screenshot`` mode, when the engine took no
            screenshot, draw the hits as a results sheet instead of failing.
    """

    context: str = "text"
    max_hits: int = 10
    max_context_chars: int = 6000
    max_thumbnails: int = 6
    render_missing_screenshot: bool = True

    def __post_init__(self) -> None:
        check_context_mode(self.context)
        for name in ("max_hits", "max_context_chars", "max_thumbnails"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigurationError(f"{name} must be a positive integer, got {value!r}.")

    @classmethod
    def names(cls) -> frozenset[str]:
        return frozenset(f.name for f in dataclasses.fields(cls))

    @classmethod
    def take_from(cls, base: PromptOptions | None, options: dict[str, Any]) -> PromptOptions:
        """``base`` (or the defaults) updated with the prompt settings found in ``options``,
        which are removed from it (the rest is left for the caller, e.g. retriever options)."""
        if base is not None and not isinstance(base, PromptOptions):
            raise ConfigurationError(f"prompt must be a PromptOptions, got "
                                     f"{type(base).__name__}.")
        found = {name: options.pop(name) for name in list(options) if name in cls.names()}
        return base.updated(found) if base is not None else cls(**found)

    def updated(self, changes: Mapping[str, Any]) -> PromptOptions:
        """A copy with ``changes`` applied (``None`` values leave a setting as it is)."""
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})


async def abuild_context_prompt(
    question: str,
    *,
    image: QueryImage,
    result: SearchResult | None,
    options: PromptOptions | None = None,
    allow_private_urls: bool = False,
) -> PromptSpec:
    """Fetch what ``options.context`` needs and build the prompt."""
    options = options or PromptOptions()
    mode, max_hits = options.context, options.max_hits
    thumbnails: list[Thumbnail] = []
    screenshot: bytes | None = None
    hits = result.hits[:max_hits] if result is not None else []
    if mode == "thumbnails" and hits:
        thumbnails = await afetch_thumbnails(hits, max_n=min(options.max_thumbnails, max_hits),
                                             allow_private_urls=allow_private_urls)
    if (mode == "screenshot" and result is not None and result.screenshot is None
            and options.render_missing_screenshot):
        screenshot = await render_screenshot_fallback(result, max_hits=max_hits,
                                                      allow_private_urls=allow_private_urls)
    return build_prompt(question, image=image, result=result, mode=mode, max_hits=max_hits,
                        max_context_chars=options.max_context_chars, thumbnails=thumbnails,
                        screenshot=screenshot)


async def render_screenshot_fallback(
    result: SearchResult, *, max_hits: int = 12, allow_private_urls: bool = False
) -> bytes:
    """A results-sheet PNG standing in for a results-page screenshot."""
    hits = result.hits[:max_hits]
    thumbnails = {t.hit.position: t.data for t in
                  await afetch_thumbnails(hits, max_n=len(hits),
                                          allow_private_urls=allow_private_urls)}
    items = [SheetItem(h.title, h.source or "", thumbnails.get(h.position)) for h in hits]
    heading = f"Visual matches ({result.engine or 'search'})"
    return await asyncio.to_thread(render_results_sheet, items, heading=heading)
