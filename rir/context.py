"""Deprecated: renamed :mod:`rir.prompt_builder` (this alias goes in the next release)."""

import warnings

from rir.prompt_builder import PromptOptions, abuild_context_prompt, render_screenshot_fallback

__all__ = ["PromptOptions", "abuild_context_prompt", "render_screenshot_fallback"]

warnings.warn("rir.context is now rir.prompt_builder; import from there (the old name goes in "
              "the next release).", DeprecationWarning, stacklevel=2)
