"""Reverse image search engines and the registry that builds them by name.

    >>> from rir.engines import get_engine
    >>> engine = get_engine("local", path="photos.rir")  # no path: the default index
    >>> result = engine.search("query.jpg", k=5)

Engines are imported lazily, so ``import rir`` stays fast and optional
dependencies (Playwright browsers, PicImageSearch, google-auth) are only needed
by the engines that use them. :class:`Engine` and :func:`check_k` (from
:mod:`rir.engines.base`, the contract) too are imported on first use.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from rir import _moved
from rir.errors import ConfigurationError

if TYPE_CHECKING:
    from rir.engines.base import Engine, check_k

__getattr__, __dir__ = _moved.lazy_exports(__name__, {"rir.engines.base": ["Engine", "check_k"]})

__all__ = ["Engine", "available_engines", "check_k", "display_options", "get_engine",
           "register_engine"]

# name -> "module:attribute" (a class or a factory function), imported on first use.
_REGISTRY: dict[str, str | Callable[..., Engine]] = {
    "local": "rir.engines.local.index:open_index",  # an existing index only (create=False)
    "google_lens": "rir.engines.google_lens:GoogleLensEngine",
    "serpapi": "rir.engines.serpapi:SerpApiLensEngine",
    "cloud_vision": "rir.engines.cloud_vision:CloudVisionEngine",
    "fallback": "rir.engines.fallback:FallbackEngine",
    "fusion": "rir.engines.fusion:FusionEngine",
    "auto": "rir.engines.auto:auto_engine",
}
# Engines that drive a browser: they can run visibly and photograph their results page.
_BROWSER_ENGINES = ("google_lens",)
# Engines that pick another engine and pass it the options nested under its name.
_CHOOSING_ENGINES = ("auto",)
# "picimagesearch:<provider>" names go to this factory with provider=<provider>.
_PREFIXED: dict[str, str] = {
    "picimagesearch": "rir.engines.picimagesearch:PicImageSearchEngine",
}


def register_engine(name: str, factory: str | Callable[..., Engine]) -> None:
    """Make ``get_engine(name, **options)`` build an engine with ``factory(**options)``.

    ``factory`` is a callable or a ``"module:attribute"`` string imported lazily.
    """
    if not name or ":" in name:
        raise ConfigurationError(
            f"Engine names must be non-empty and contain no ':', got {name!r}."
        )
    _REGISTRY[name] = factory


def available_engines() -> list[str]:
    """Registered engine names (``picimagesearch:<provider>`` shown as a pattern)."""
    return sorted(_REGISTRY) + [f"{prefix}:<provider>" for prefix in sorted(_PREFIXED)]


def _import(target: str, name: str) -> Callable[..., Engine]:
    module_name, _, attribute = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigurationError(
            f"Engine '{name}' is unavailable: importing {module_name} failed ({exc}). "
            "Install the optional dependencies with: pip install 'reverse-image-rag[all]'"
        ) from None
    return getattr(module, attribute)


def get_engine(name: str | Engine, **options: Any) -> Engine:
    """Build the engine registered as ``name`` with ``options``.

    An :class:`Engine` instance is returned as is (options must then be empty).
    """
    from rir.engines.base import Engine

    if isinstance(name, Engine):
        if options:
            raise ConfigurationError(
                f"Options {sorted(options)} were given with an engine instance "
                f"({type(name).__name__}); configure the instance instead."
            )
        return name
    if not isinstance(name, str):
        raise ConfigurationError(
            f"engine must be a name or an Engine instance, got {type(name).__name__}."
        )
    key = name.strip().lower()
    prefix, sep, provider = key.partition(":")
    if sep and prefix in _PREFIXED:
        factory = _import(_PREFIXED[prefix], name)
        options = {"provider": provider, **options}
    else:
        target = _REGISTRY.get(key)
        if target is None:
            raise ConfigurationError(
                f"Unknown engine '{name}'. Available: {', '.join(available_engines())}."
            )
        factory = _import(target, name) if isinstance(target, str) else target
    _check_options(factory, options, name)
    return factory(**options)


def _check_options(factory: Callable[..., Engine], options: dict[str, Any], name: str) -> None:
    try:
        signature = inspect.signature(factory)
    except (TypeError, ValueError):  # no introspectable signature: the call itself will check
        return
    try:
        signature.bind(**options)
    except TypeError as exc:
        raise ConfigurationError(f"Bad options for engine '{name}': {exc}.") from None


def display_options(
    engine: str,
    *,
    headless: bool = True,
    screenshot: bool = False,
    options: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """``options`` for ``get_engine(engine, ...)`` plus how the search should be shown.

    A browser engine takes ``headless`` (``False``: watch it work) and, with
    ``screenshot=True``, photographs its results page; an engine that picks another
    (``auto``) gets them nested under the browser engine's name, used if it picks it;
    other engines take neither (a caller wanting a picture renders a results sheet).
    The caller's own ``options`` win.
    """
    browser = {"headless": headless, **({"screenshot": "viewport"} if screenshot else {})}
    given = dict(options or {})
    key = engine.strip().lower()
    if key in _BROWSER_ENGINES:
        return {**browser, **given}
    if key in _CHOOSING_ENGINES:
        nested = {name: {**browser, **dict(given.get(name) or {})} for name in _BROWSER_ENGINES}
        return {**given, **nested}
    return given
