"""Prompting: from a search result to what a multimodal model is shown.

* :mod:`rir.prompting.spec`: the framework-neutral prompt (context modes, parts);
* :mod:`rir.prompting.texts`: system prompts, and web text made safe to show a model;
* :mod:`rir.prompting.listing`: hits as a numbered listing (text context, tool replies);
* :mod:`rir.prompting.build`: ``build_prompt`` and ``PromptOptions``, every context mode;
* :mod:`rir.prompting.thumbnail_fetch` and :mod:`rir.prompting.results_sheet`: the images
  of the ``thumbnails`` and ``screenshot`` modes;
* :mod:`rir.prompting.hit_documents`: a hit as a retrieved document (id, text, metadata);
* :mod:`rir.prompting.cost`: how big a prompt is, per context mode.

Public names: ``__all__`` (imported on first use).
"""

from typing import TYPE_CHECKING

from rir import _moved

if TYPE_CHECKING:
    from rir.prompting.build import PromptOptions, abuild_context_prompt, build_prompt
    from rir.prompting.cost import ContextSize, ameasure_modes, format_table, measure_prompt
    from rir.prompting.listing import format_hits, format_regions_tool_result, format_tool_result
    from rir.prompting.spec import CONTEXT_MODES, ImagePart, PromptSpec, TextPart, Thumbnail
    from rir.prompting.texts import sanitize_untrusted

__all__ = [
    "CONTEXT_MODES",
    "ContextSize",
    "ImagePart",
    "PromptOptions",
    "PromptSpec",
    "TextPart",
    "Thumbnail",
    "abuild_context_prompt",
    "ameasure_modes",
    "build_prompt",
    "format_hits",
    "format_regions_tool_result",
    "format_table",
    "format_tool_result",
    "measure_prompt",
    "sanitize_untrusted",
]

__getattr__, __dir__ = _moved.lazy_exports(__name__, {
    "rir.prompting.build": ["PromptOptions", "abuild_context_prompt", "build_prompt"],
    "rir.prompting.cost": ["ContextSize", "ameasure_modes", "format_table", "measure_prompt"],
    "rir.prompting.listing": ["format_hits", "format_regions_tool_result", "format_tool_result"],
    "rir.prompting.spec": ["CONTEXT_MODES", "ImagePart", "PromptSpec", "TextPart", "Thumbnail"],
    "rir.prompting.texts": ["sanitize_untrusted"],
})
