"""``auto``: the best engine this environment can use, chosen once per process and logged.

1. ``serpapi`` when ``SERPAPI_API_KEY`` holds a key (paid, stable JSON; empty or
   placeholder values such as ``<your key>`` do not count);
2. else ``cloud_vision`` when ``GOOGLE_CLOUD_VISION_API_KEY`` is set or Application
   Default Credentials are configured (with google-auth installed);
3. else ``google_lens`` in a real browser (free, but Google may block it).

    >>> from rir.engines import get_engine
    >>> engine = get_engine("auto", serpapi={"hl": "en"})  # doctest: +SKIP

Options: ``serpapi=``, ``cloud_vision=`` and ``google_lens=`` are option dicts for that
engine only; any other keyword goes to whichever engine is chosen.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from typing import Any

from rir.engines.base import Engine
from rir.engines.http.secrets import configured_env

__all__ = ["auto_engine", "choose_engine"]

logger = logging.getLogger(__name__)
_announced: set[str] = set()
_announce_lock = threading.Lock()


def choose_engine() -> tuple[str, str]:
    """(engine name, reason) for this environment; never reveals a key's value.

    An empty or placeholder value (``<your key>``, ``sk-...``) is not a key: see
    :func:`rir.engines.http.secrets.looks_like_placeholder`.
    """
    if configured_env("SERPAPI_API_KEY"):
        return "serpapi", "SERPAPI_API_KEY is set"
    if configured_env("GOOGLE_CLOUD_VISION_API_KEY"):
        return "cloud_vision", "GOOGLE_CLOUD_VISION_API_KEY is set"
    from rir.engines.cloud_vision import adc_available  # lazy: keeps `import rir` light

    if adc_available():
        return "cloud_vision", "Google Application Default Credentials are configured"
    return "google_lens", "no SERPAPI_API_KEY or Google Cloud Vision credentials were found"


def auto_engine(
    *,
    serpapi: Mapping[str, Any] | None = None,
    cloud_vision: Mapping[str, Any] | None = None,
    google_lens: Mapping[str, Any] | None = None,
    **options: Any,
) -> Engine:
    """Build the engine :func:`choose_engine` picks, with ``options`` plus its own dict."""
    from rir.engines import get_engine  # the registry imports this module lazily

    name, reason = choose_engine()
    own = {"serpapi": serpapi, "cloud_vision": cloud_vision, "google_lens": google_lens}[name]
    with _announce_lock:
        first = name not in _announced
        _announced.add(name)
    if first:
        logger.info("Engine 'auto' chose '%s' (%s).", name, reason)
    return get_engine(name, **{**options, **dict(own or {})})
