"""How HTTP answers map onto the error tree (the types live in :mod:`rir.errors`).

Every failure is an ``EngineError``, so a fallback chain can move on to its
next engine; 401/403 and rejected options are also ``ConfigurationError``s.
"""

from __future__ import annotations

import email.utils
import json
import math
import re
import time
from collections.abc import Callable
from typing import Any

import httpx

from rir.engines.http.secrets import redact_text
from rir.errors import (
    EngineAuthenticationError,
    EngineConnectionError,
    EngineError,
    EngineQuotaExceededError,
    EngineRateLimitedError,
    EngineRequestError,
    EngineResponseError,
    EngineServerError,
    EngineTimeoutError,
    EngineUnsupportedInputError,
)
from rir.urls import redact_url

__all__ = [
    "EngineAuthenticationError",
    "EngineConnectionError",
    "EngineQuotaExceededError",
    "EngineRequestError",
    "EngineResponseError",
    "EngineServerError",
    "EngineUnsupportedInputError",
    "error_for_status",
    "parse_json",
    "parse_retry_after",
]




_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_TAGS = re.compile(r"<[^>]+>")
_SPACES = re.compile(r"\s+")


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when is None:
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    if math.isnan(seconds) or math.isinf(seconds):
        return None
    return max(0.0, seconds)


def snippet_of(response: httpx.Response, limit: int = 160) -> str:
    """A short, secret-free description of a response body for error messages."""
    text = response.text if response.content else ""
    title = _TITLE.search(text)
    if title:
        text = f"HTML page titled '{title.group(1)}'"
    text = _SPACES.sub(" ", _TAGS.sub(" ", text)).strip()
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return redact_text(text) or "an empty body"


def parse_json(response: httpx.Response, *, engine: str, what: str = "response") -> Any:
    """The JSON body of ``response``, or :class:`EngineResponseError` saying what came instead."""
    where = redact_url(str(response.request.url)) if response.request else engine
    body = response.content.lstrip()
    if not body:
        raise EngineResponseError(
            f"{engine} returned an empty {what} (HTTP {response.status_code}) from {where}; "
            "try again later, or check base_url if you changed it.",
            engine=engine,
        )
    content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if body[:1] == b"<" or content_type in ("text/html", "application/xhtml+xml"):
        raise EngineResponseError(
            f"{engine} returned {snippet_of(response)} instead of JSON (HTTP "
            f"{response.status_code}) from {where}. A proxy, captive portal or wrong base_url "
            "usually causes this; check base_url and your network.",
            engine=engine,
        )
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise EngineResponseError(
            f"{engine} returned invalid JSON (HTTP {response.status_code}) from {where}: "
            f"{exc.__class__.__name__} at {getattr(exc, 'pos', '?')}; the provider may be "
            "having trouble, try again later.",
            engine=engine,
        ) from None


def error_for_status(
    response: httpx.Response,
    *,
    engine: str,
    detail: str | None = None,
    key_hint: str = "check the API key",
) -> EngineError | None:
    """The typed error for a non-2xx ``response`` (``None`` for 2xx).

    ``detail`` is the provider's own error text when the caller could parse one.
    """
    status = response.status_code
    if status < 300:
        return None
    said = redact_text(detail) if detail else snippet_of(response)
    prefix = f"{engine} answered HTTP {status}: {said}"
    if status in (401, 403):
        return EngineAuthenticationError(
            f"{prefix}. The credentials were rejected or lack access; {key_hint}.", engine=engine
        )
    if status == 429:
        retry_after = parse_retry_after(response.headers.get("retry-after"))
        when = f"retry after {retry_after:.0f} s" if retry_after is not None else "slow down"
        return EngineRateLimitedError(
            f"{prefix}. Too many requests; {when} or lower requests_per_second.",
            engine=engine,
            retry_after=retry_after,
        )
    if status in (408, 504):
        return EngineTimeoutError(f"{prefix}. The provider timed out; try again.", engine=engine)
    if status >= 500:
        return EngineServerError(
            f"{prefix}. The provider failed on its side; try again later.", engine=engine
        )
    return EngineRequestError(
        f"{prefix}. The provider rejected the request; check the engine options "
        "(and base_url if you changed it).",
        engine=engine,
    )


def transport_error(exc: httpx.TransportError, *, engine: str, url: str,
                    timeout_s: float) -> EngineError:
    """Our typed error for an httpx transport failure (never echoing the URL's query)."""
    shown = redact_url(url)
    if isinstance(exc, httpx.TimeoutException):
        kind = type(exc).__name__
        return EngineTimeoutError(
            f"{engine} did not answer within {timeout_s:g} s ({kind} on {shown}); try again "
            "or raise timeout_s.",
            engine=engine,
        )
    reason = redact_text(str(exc)) or type(exc).__name__
    return EngineConnectionError(
        f"Connection to {engine} failed ({type(exc).__name__}: {reason}) on {shown}; check "
        "your network or proxy, or base_url if you changed it.",
        engine=engine,
    )


def with_attempts(exc: EngineError, attempts: int) -> EngineError:
    """The same kind of error, its message saying how many attempts were made."""
    if attempts <= 1:
        return exc
    message = f"{exc} (gave up after {attempts} attempts)"
    kwargs: dict[str, Any] = {"engine": exc.engine}
    if isinstance(exc, EngineRateLimitedError):
        kwargs["retry_after"] = exc.retry_after
    try:
        return type(exc)(message, **kwargs)
    except TypeError:  # a subclass with its own constructor: keep the original
        return exc


ErrorClassifier = Callable[[httpx.Response], EngineError | None]
