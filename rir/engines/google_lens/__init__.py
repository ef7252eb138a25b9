"""Google Lens on a real browser: reverse image search without an API key.

    >>> from rir.engines import get_engine
    >>> lens = get_engine("google_lens", hl="en")
    >>> result = lens.search("photo.jpg", k=10)          # doctest: +SKIP

:func:`parse_lens_html` (the page parser) works on its own on saved pages.
Names are imported on first use, so the parser (and ``rir --help``) do not pay
for importing Playwright.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rir.engines.google_lens.browser import BrowserPool, find_browser
    from rir.engines.google_lens.engine import GoogleLensEngine
    from rir.engines.google_lens.login import alogin
    from rir.engines.google_lens.parser import PageAnalysis, analyse_lens_html, parse_lens_html
    from rir.engines.google_lens.session import default_storage_state_path
    from rir.engines.google_lens.states import PageKind, PageState

__all__ = [
    "BrowserPool",
    "GoogleLensEngine",
    "PageAnalysis",
    "PageKind",
    "PageState",
    "alogin",
    "analyse_lens_html",
    "default_storage_state_path",
    "find_browser",
    "parse_lens_html",
]

_WHERE = {
    "BrowserPool": "browser",
    "find_browser": "browser",
    "GoogleLensEngine": "engine",
    "alogin": "login",
    "PageAnalysis": "parser",
    "analyse_lens_html": "parser",
    "parse_lens_html": "parser",
    "default_storage_state_path": "session",
    "PageKind": "states",
    "PageState": "states",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
