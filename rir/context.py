"""From a search result to a ready prompt, for every context mode (framework-free).

:func:`abuild_context_prompt` does the I/O a mode needs before
:func:`rir.prompts.build_prompt` can run: downloading thumbnails (``thumbnails``
mode) and, for ``screenshot`` mode with an engine that took no screenshot,
rendering the hits as a results sheet. Both the LangChain chain and the
LlamaIndex query engine call it, so they send identical prompts.
"""

from __future__ import annotations

import asyncio

from rir.images import QueryImage
from rir.models import SearchResult
from rir.prompts import PromptSpec, Thumbnail, build_prompt, check_context_mode
from rir.render import SheetItem, render_results_sheet
from rir.thumbnails import afetch_thumbnails

__all__ = ["abuild_context_prompt", "render_screenshot_fallback"]


async def abuild_context_prompt(
    question: str,
    *,
    image: QueryImage,
    result: SearchResult | None,
    mode: str = "text",
    max_hits: int = 10,
    max_context_chars: int = 6000,
    max_thumbnails: int = 6,
    allow_private_urls: bool = False,
    render_missing_screenshot: bool = True,
) -> PromptSpec:
    """Fetch what ``mode`` needs and build the prompt.

    ``render_missing_screenshot``: in ``screenshot`` mode, when the engine took no
    screenshot, draw the hits as a results sheet instead of failing.
    """
    check_context_mode(mode)
    thumbnails: list[Thumbnail] = []
    screenshot: bytes | None = None
    hits = result.hits[:max_hits] if result is not None else []
    if mode == "thumbnails" and hits:
        thumbnails = await afetch_thumbnails(hits, max_n=min(max_thumbnails, max_hits),
                                             allow_private_urls=allow_private_urls)
    if (mode == "screenshot" and result is not None and result.screenshot is None
            and render_missing_screenshot):
        screenshot = await render_screenshot_fallback(result, max_hits=max_hits,
                                                      allow_private_urls=allow_private_urls)
    return build_prompt(question, image=image, result=result, mode=mode, max_hits=max_hits,
                        max_context_chars=max_context_chars, thumbnails=thumbnails,
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
