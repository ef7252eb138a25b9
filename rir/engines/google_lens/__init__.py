"""Google Lens on a real browser: reverse image search without an API key.

    >>> from rir.engines import get_engine
    >>> lens = get_engine("google_lens", hl="en")
    >>> result = lens.search("photo.jpg", k=10)          # doctest: +SKIP

:func:`parse_lens_html` (the page parser) works on its own on saved pages.
Names are imported on first use, so the parser (and ``rir --help``) do not pay
for importing Playwright.
"""

from typing import TYPE_CHECKING

from rir import _moved

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

__getattr__, __dir__ = _moved.lazy_exports(__name__, {
    "rir.engines.google_lens.browser": ["BrowserPool", "find_browser"],
    "rir.engines.google_lens.engine": ["GoogleLensEngine"],
    "rir.engines.google_lens.login": ["alogin"],
    "rir.engines.google_lens.parser": ["PageAnalysis", "analyse_lens_html", "parse_lens_html"],
    "rir.engines.google_lens.session": ["default_storage_state_path"],
    "rir.engines.google_lens.states": ["PageKind", "PageState"],
})
