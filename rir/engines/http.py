"""Public names of the API engines' shared HTTP plumbing (implemented in ``rir.engines._http``).

    >>> from rir.engines.http import RateLimit, RetryPolicy
    >>> from rir.engines.serpapi import SerpApiLensEngine
    >>> engine = SerpApiLensEngine(retry=RetryPolicy(attempts=5),
    ...                            rate_limit=RateLimit(requests_per_second=2))  # doctest: +SKIP
"""

from rir.engines._http import (
    EngineAuthenticationError,
    EngineConnectionError,
    EngineQuotaExceededError,
    EngineRequestError,
    EngineResponseError,
    EngineServerError,
    EngineUnsupportedInputError,
    RateLimit,
    RetryPolicy,
    redact_text,
)

__all__ = [
    "EngineAuthenticationError",
    "EngineConnectionError",
    "EngineQuotaExceededError",
    "EngineRequestError",
    "EngineResponseError",
    "EngineServerError",
    "EngineUnsupportedInputError",
    "RateLimit",
    "RetryPolicy",
    "redact_text",
]
