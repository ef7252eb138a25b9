"""``HttpOptions``: how an API engine talks HTTP, written once for every API engine.

Every API engine (SerpApi, Cloud Vision, PicImageSearch) takes the same six
options, either as keywords (``SerpApiLensEngine(timeout_s=30, proxy=...)``, what
``get_engine("serpapi", timeout_s=30)`` passes) or together as
``http=HttpOptions(...)``; keywords win over the object. ``None`` fields take the
engine's defaults.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypedDict

import httpx

from rir.engines.http.client import ApiHttp, RateLimit, RetryPolicy, check_base_url
from rir.errors import ConfigurationError

__all__ = ["HttpKwargs", "HttpOptions"]


class HttpKwargs(TypedDict, total=False):
    """The keyword form of :class:`HttpOptions` (for ``**http_options`` in engine signatures)."""

    base_url: str
    timeout_s: float
    retry: RetryPolicy | None
    rate_limit: RateLimit | None
    proxy: str | None
    transport: httpx.AsyncBaseTransport | None


@dataclass(frozen=True)
class HttpOptions:
    """Endpoint, per-request deadline, retries, rate limit, proxy and transport.

    Attributes:
        base_url: the provider endpoint (a proxy, or a local test server).
        timeout_s: the deadline of each request.
        retry: see :class:`RetryPolicy`; rate_limit: see :class:`RateLimit`.
        proxy: an outgoing proxy URL (kept out of reprs: it may carry credentials).
        transport: an httpx transport (``httpx.MockTransport`` in tests).
    """

    base_url: str | None = None
    timeout_s: float | None = None
    retry: RetryPolicy | None = None
    rate_limit: RateLimit | None = None
    proxy: str | None = field(default=None, repr=False)
    transport: httpx.AsyncBaseTransport | None = field(default=None, repr=False)

    @classmethod
    def combine(cls, http: HttpOptions | None, overrides: Mapping[str, Any], *,
                engine: str) -> HttpOptions:
        """``http`` (or the defaults) with keyword ``overrides`` applied, checked by name."""
        if http is not None and not isinstance(http, HttpOptions):
            raise ConfigurationError(f"{engine}: http must be an HttpOptions, got "
                                     f"{type(http).__name__}.")
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(overrides) - names)
        if unknown:
            raise ConfigurationError(f"{engine}: unknown option(s) {', '.join(unknown)}; the "
                                     f"HTTP options are {', '.join(sorted(names))}.")
        return dataclasses.replace(http or cls(), **dict(overrides))

    def client(self, *, engine: str, base_url: str, timeout_s: float = 30.0,
               rate_limit: RateLimit | None = None, **extra: Any) -> ApiHttp:
        """The engine's :class:`ApiHttp`, with the engine's defaults for unset fields.

        ``extra`` goes to :class:`ApiHttp` as is (default headers, client options).
        """
        return ApiHttp(
            engine=engine,
            base_url=check_base_url(self.base_url or base_url, engine=engine),
            timeout_s=self.timeout_s if self.timeout_s is not None else timeout_s,
            retry=self.retry,
            rate_limit=self.rate_limit or rate_limit,
            proxy=self.proxy,
            transport=self.transport,
            **extra,
        )
