"""Shared plumbing of the API engines (SerpApi, Cloud Vision, PicImageSearch), written once.

Public names: ``from rir.engines.http import HttpOptions, RetryPolicy, RateLimit``
(``__all__``, imported on first use: ``rir.engines.http`` alone loads no httpx).

* :mod:`.client` — :class:`ApiHttp`: one httpx client per engine per loop, rate limit,
  retries with backoff and jitter honouring ``Retry-After``; :class:`RetryPolicy`,
  :class:`RateLimit`, :func:`check_base_url`.
* :mod:`.options` — :class:`HttpOptions`: the six HTTP options every API engine takes.
* :mod:`.error_mapping` — the HTTP-status mapping onto the error tree (types in :mod:`rir.errors`,
  re-exported here).
* :mod:`.secrets` — keys as ``SecretStr``, redaction from logs, messages and payloads.
"""

from typing import TYPE_CHECKING

from rir import _moved

if TYPE_CHECKING:
    from rir.engines.http.client import ApiHttp, RateLimit, RetryPolicy, check_base_url
    from rir.engines.http.error_mapping import (
        EngineAuthenticationError,
        EngineConnectionError,
        EngineQuotaExceededError,
        EngineRequestError,
        EngineResponseError,
        EngineServerError,
        EngineUnsupportedInputError,
        error_for_status,
        parse_json,
        parse_retry_after,
    )
    from rir.engines.http.options import HttpKwargs, HttpOptions
    from rir.engines.http.secrets import (
        protect_logger,
        protected_logger,
        redact_text,
        register_secret,
        resolve_secret,
        scrub,
        scrub_result,
    )

__all__ = [
    "ApiHttp",
    "EngineAuthenticationError",
    "EngineConnectionError",
    "EngineQuotaExceededError",
    "EngineRequestError",
    "EngineResponseError",
    "EngineServerError",
    "EngineUnsupportedInputError",
    "HttpKwargs",
    "HttpOptions",
    "RateLimit",
    "RetryPolicy",
    "check_base_url",
    "error_for_status",
    "parse_json",
    "parse_retry_after",
    "protect_logger",
    "protected_logger",
    "redact_text",
    "register_secret",
    "resolve_secret",
    "scrub",
    "scrub_result",
]

__getattr__, __dir__ = _moved.lazy_exports(__name__, {
    "rir.engines.http.client": ["ApiHttp", "RateLimit", "RetryPolicy", "check_base_url"],
    "rir.engines.http.error_mapping": [
        "EngineAuthenticationError", "EngineConnectionError", "EngineQuotaExceededError",
        "EngineRequestError", "EngineResponseError", "EngineServerError",
        "EngineUnsupportedInputError", "error_for_status", "parse_json", "parse_retry_after"],
    "rir.engines.http.options": ["HttpKwargs", "HttpOptions"],
    "rir.engines.http.secrets": ["protect_logger", "protected_logger", "redact_text",
                                 "register_secret", "resolve_secret", "scrub", "scrub_result"],
})
