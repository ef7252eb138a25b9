"""From a search result to a ready prompt, for every context mode (framework-free).

:func:`build_prompt` turns a question, the query image and a search result into
a framework-neutral :class:`~rir.prompting.spec.PromptSpec`.

:class:`PromptOptions` holds the settings of that step, once, for the LangChain
chain, the LlamaIndex query engine and :func:`abuild_context_prompt`, which does
the I/O a mode needs before :func:`build_prompt` can run:
downloading thumbnails (``thumbnails`` mode) and, for ``screenshot`` mode with an
engine that took no screenshot, rendering the hits as a results sheet. Both
frameworks call it, so they send identical prompts.

A region search (:class:`~rir.results.region_parts.RegionsResult`) is presented grouped by
region in the ``text`` and ``thumbnails`` modes ("Region 2, top-left (...)"), and with
``attach_crops`` the crops of the searched regions follow the query image.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rir.errors import ConfigurationError
from rir.inputs.crops import acrop_boxes
from rir.inputs.images import QueryImage
from rir.prompting.listing import format_hits, format_region_hits, region_notes
from rir.prompting.results_sheet import SheetItem, render_results_sheet
from rir.prompting.spec import (
    ImagePart,
    Part,
    PromptSpec,
    TextPart,
    Thumbnail,
    check_context_mode,
)
from rir.prompting.texts import (
    CROPS_NOTE,
    FENCE_CLOSE,
    FENCE_OPEN,
    REGIONS_NOTE,
    SYSTEM_BY_MODE,
    fence,
    sanitize_untrusted,
)
from rir.prompting.thumbnail_fetch import afetch_thumbnails
from rir.results.models import SearchHit, SearchResult
from rir.results.region_parts import RegionPart, RegionsResult

__all__ = ["CROP_MAX_SIDE", "PromptOptions", "abuild_context_prompt", "aregion_crops",
           "build_prompt", "render_screenshot_fallback"]

#: Crops attached beside the query image are at most this long a side (one 512 px tile).
CROP_MAX_SIDE = 512


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
        attach_crops: for a region search, send the crop of each searched region (at most
            512 px a side) after the query image. Off by default: the model already sees the
            whole image and each region's box, and every crop costs an image's tokens (about
            255 with gpt-4o, see docs/benchmarks/region-prompt-size.md).
    """

    context: str = "text"
    max_hits: int = 10
    max_context_chars: int = 6000
    max_thumbnails: int = 6
    render_missing_screenshot: bool = True
    attach_crops: bool = False

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
    result: SearchResult | None = None,
    options: PromptOptions | None = None,
    allow_private_urls: bool = False,
    regions: RegionsResult | None = None,
) -> PromptSpec:
    """Fetch what ``options.context`` needs and build the prompt.

    ``regions``: a region search; its merged hits stand for ``result`` when that is
    ``None``, and the context groups them by region.
    """
    options = options or PromptOptions()
    mode, max_hits = options.context, options.max_hits
    if regions is not None and result is None:
        result = regions.as_search_result()
    crops = await aregion_crops(image, regions) if (
        regions is not None and options.attach_crops and mode != "none") else []
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
                        screenshot=screenshot, regions=regions, crops=crops)


async def aregion_crops(image: QueryImage, regions: RegionsResult) -> list[ImagePart]:
    """The crop of each searched region but the whole image, at most :data:`CROP_MAX_SIDE`
    pixels a side, labelled with the region's number and place."""
    chosen = [(n, p) for n, p in enumerate(regions.parts, 1) if p.origin != "whole"]
    crops = await acrop_boxes(image, [p.region.box for _, p in chosen], upscale=False)
    parts = []
    for (number, part), crop in zip(chosen, crops, strict=True):
        small = await asyncio.to_thread(crop.downscaled, CROP_MAX_SIDE)
        parts.append(ImagePart(small.data, small.mime_type,
                               label=f"crop of region {number} ({part.label})"))
    return parts


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


def build_prompt(
    question: str,
    *,
    image: QueryImage,
    result: SearchResult | None = None,
    mode: str = "text",
    max_hits: int = 10,
    max_context_chars: int = 6000,
    thumbnails: Sequence[Thumbnail] = (),
    screenshot: bytes | None = None,
    regions: RegionsResult | None = None,
    crops: Sequence[ImagePart] = (),
) -> PromptSpec:
    """Build the multimodal prompt for ``question`` about ``image`` in context ``mode``.

    ``screenshot`` overrides ``result.screenshot``; ``thumbnails`` are the downloaded
    thumbnails for the ``thumbnails`` mode (hits without one are listed as text).
    ``regions``: a region search, whose hits (``result`` defaults to its merged ones) the
    ``text`` and ``thumbnails`` modes group by region; ``crops`` follow the query image.
    """
    check_context_mode(mode)
    question = (question or "").strip()
    if not question:
        raise ConfigurationError("The question is empty; ask something about the image.")
    if regions is not None and result is None:
        result = regions.as_search_result()
    query_part = ImagePart(image.data, image.mime_type, label="query image")
    question_part = TextPart(f"Question: {question}")
    hits = result.hits if result is not None else []
    best_guess = result.best_guess if result is not None else None

    if mode == "none":
        return PromptSpec(SYSTEM_BY_MODE["none"], (query_part, question_part), mode, question)
    grouped = regions is not None and mode in ("text", "thumbnails")
    system = " ".join([SYSTEM_BY_MODE[mode], *([REGIONS_NOTE] if grouped else []),
                       *([CROPS_NOTE] if crops else [])])
    images = (query_part, *crops)

    if mode == "screenshot":
        png = screenshot if screenshot is not None else (result.screenshot if result else None)
        if not png:
            raise ConfigurationError(
                "context='screenshot' needs a screenshot of the results: use an engine that "
                "takes one (google_lens with screenshot='full', or the local engine with "
                "screenshot=True), or choose context='text'."
            )
        shot = ImagePart(png, "image/png", label="reverse image search results screenshot")
        which = "last" if crops else "second"
        note = TextPart(f"{FENCE_OPEN}\nThe {which} image is a screenshot of the reverse image "
                        f"search results for the first image.\n{FENCE_CLOSE}")
        return PromptSpec(system, (*images, shot, note, question_part),
                          mode, question, context_text=note.text)

    if mode == "thumbnails":
        return _thumbnails_prompt(system, images, question_part, question, hits=hits,
                                  best_guess=best_guess, regions=regions, max_hits=max_hits,
                                  max_context_chars=max_context_chars, thumbnails=thumbnails)

    if regions is not None:
        context = fence(format_region_hits(regions, max_hits=max_hits,
                                           max_chars=max_context_chars))
    else:
        context = fence(format_hits(hits, best_guess=best_guess, max_hits=max_hits,
                                    max_chars=max_context_chars))
    return PromptSpec(system, (*images, TextPart(context), question_part),
                      mode, question, context_text=context)


def _thumbnails_prompt(system: str, images: tuple[ImagePart, ...], question_part: TextPart,
                       question: str, *, hits: Sequence[SearchHit], best_guess: str | None,
                       regions: RegionsResult | None, max_hits: int, max_context_chars: int,
                       thumbnails: Sequence[Thumbnail]) -> PromptSpec:
    """The ``thumbnails`` mode: each hit's thumbnail and caption, grouped by region for a
    region search, within ``max_context_chars`` of text."""
    by_position = {t.hit.position: t for t in thumbnails}
    parts: list[Part] = [*images, TextPart(f"{FENCE_OPEN}\nReverse image search results:")]
    text_lines: list[str] = [parts[-1].text]  # type: ignore[union-attr]

    def add(line: str, image: ImagePart | None = None) -> None:
        if image is not None:
            parts.append(image)
        parts.append(TextPart(line))
        text_lines.append(line)

    groups: list[tuple[int, RegionPart | None, list[SearchHit]]] = (
        regions.grouped_hits(max_hits) if regions is not None
        else [(0, None, list(hits[:max_hits]))])
    budget, number = max_context_chars, 0
    for region, part, group in groups:
        if part is not None:
            for line in [f"{part.heading(region)}:", *region_notes(part, bool(group))]:
                add(line)
        for hit in group:
            number += 1
            title = sanitize_untrusted(hit.title, 200) or "(untitled)"
            site = sanitize_untrusted(hit.source, 80)
            caption = f"[{number}] {title}" + (f" | site: {site}" if site else "")
            budget -= len(caption)
            if budget < 0:
                break
            thumb = by_position.get(hit.position)
            add(caption, ImagePart(thumb.data, thumb.mime_type, label=f"result {number}")
                if thumb is not None else None)
    if best_guess and regions is None:
        add(f"Best guess from the results: {sanitize_untrusted(best_guess, 120)}")
    if not hits:
        add("(the reverse image search found no matching pages)")
    add(FENCE_CLOSE)
    parts.append(question_part)
    return PromptSpec(system, tuple(parts), "thumbnails", question,
                      context_text="\n".join(text_lines))
