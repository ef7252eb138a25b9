"""The exceptions reverse-image-rag raises, all in one tree.

    RIRError
    ├── InvalidImageError      the input is not an image we accept (bad bytes, format, size)
    │   └── ImageTooLargeError     over the byte or pixel cap (a server answers 413)
    ├── ImageFetchError        an image URL could not be fetched (404, timeout, HTML page, ...)
    ├── UnsafeURLError         a URL points at a private, loopback or metadata address
    ├── ConfigurationError     a missing key, browser, extra or a bad option
    │   ├── InvalidRegionError     a region box that does not fit the image, or too many regions
    │   └── EngineUnavailableError  an engine cannot run here (no key / extra): fallback skips it
    └── EngineError            a search engine failed
        ├── EngineBlockedError       the engine refused us (captcha, consent wall, bot check)
        ├── EngineRateLimitedError   too many requests; ``retry_after`` says when to retry
        │   └── EngineQuotaExceededError   out of credits: waiting will not help
        ├── EngineTimeoutError       the engine did not answer in time
        ├── EngineServerError        the provider failed on its side (HTTP 5xx)
        ├── EngineConnectionError    refused, reset, DNS failure
        ├── EngineResponseError      an answer we cannot read (bad JSON, an HTML page)
        ├── EngineAuthenticationError    key rejected   } also ConfigurationErrors:
        ├── EngineRequestError           options rejected } the user must change
        ├── EngineUnsupportedInputError  input unusable } something
        └── AllEnginesFailedError    every engine of a fallback or fusion failed

Every message says what was wrong, with which input, and what to do about it.
Inputs are described by :func:`rir.inputs.describe.describe_source`, which never
prints image bytes, base64 payloads or URL credentials.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

__all__ = [
    "AllEnginesFailedError",
    "ConfigurationError",
    "EngineAuthenticationError",
    "EngineBlockedError",
    "EngineConnectionError",
    "EngineError",
    "EngineQuotaExceededError",
    "EngineRateLimitedError",
    "EngineRequestError",
    "EngineResponseError",
    "EngineServerError",
    "EngineTimeoutError",
    "EngineUnavailableError",
    "EngineUnsupportedInputError",
    "ImageFetchError",
    "ImageTooLargeError",
    "InvalidImageError",
    "InvalidRegionError",
    "RIRError",
    "UnsafeURLError",
    "check_number",
]


class RIRError(Exception):
    """Base class of every error this library raises on purpose."""


class InvalidImageError(RIRError, ValueError):
    """The input is not an image we can search with."""


class ImageTooLargeError(InvalidImageError):
    """The image is over the byte cap or the pixel cap (decompression-bomb guard)."""


class ImageFetchError(RIRError):
    """An image URL could not be downloaded."""


class UnsafeURLError(RIRError, ValueError):
    """A URL resolves to an address we refuse to fetch (SSRF guard)."""


class ConfigurationError(RIRError, ValueError):
    """A setting, credential, optional dependency or argument is missing or wrong."""


class InvalidRegionError(ConfigurationError):
    """A region to search is not a box inside the image (outside it, inverted, empty, too
    small, on the wrong scale), or a request asks for more regions or paid calls than allowed.

    A region is an argument about an image that loaded fine, so this is a
    :class:`ConfigurationError` (a server answers 422), not an :class:`InvalidImageError`.
    The message names the box, its scale and the image size.
    """


class EngineUnavailableError(ConfigurationError):
    """An engine cannot be built in this environment: its key or optional extra is missing.

    A ``fallback`` chain skips such an engine (and says so in ``result.failures``)
    instead of failing; a wrong option is a plain :class:`ConfigurationError`.
    """


class EngineError(RIRError):
    """A reverse image search engine failed.

    ``engine`` names the engine; it is part of the message as well.
    """

    def __init__(self, message: str, *, engine: str | None = None) -> None:
        super().__init__(message)
        self.engine = engine


class EngineBlockedError(EngineError):
    """The engine served a block page, a captcha, or a consent wall we could not pass."""


class EngineRateLimitedError(EngineError):
    """The engine answered 'too many requests'."""

    def __init__(
        self, message: str, *, engine: str | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(message, engine=engine)
        self.retry_after = retry_after


class EngineTimeoutError(EngineError):
    """The engine did not answer within its deadline."""


class EngineQuotaExceededError(EngineRateLimitedError):
    """The account ran out of searches or quota; retrying soon will not help."""


class EngineServerError(EngineError):
    """The provider failed on its side (HTTP 5xx)."""


class EngineConnectionError(EngineError):
    """The connection to the provider failed (refused, reset, DNS)."""


class EngineResponseError(EngineError):
    """The provider answered with something we cannot read."""


class EngineAuthenticationError(EngineError, ConfigurationError):
    """The provider rejected the API key or credentials (or the account lacks access)."""


class EngineRequestError(EngineError, ConfigurationError):
    """The provider rejected the request's options (HTTP 400 and similar)."""


class EngineUnsupportedInputError(EngineError, ConfigurationError):
    """This engine cannot search this kind of input as configured (e.g. a local file)."""


class AllEnginesFailedError(EngineError):
    """Every engine of a fallback chain or fusion failed; ``failures`` says how."""

    def __init__(self, message: str, *, engine: str | None = None,
                 failures: Sequence[Any] = ()) -> None:
        super().__init__(message, engine=engine)
        self.failures = list(failures)


def one_line(exc: BaseException) -> str:
    """``exc``'s message on one line (its type's name when it has none): for error lines,
    JSON records and replies, where a message spanning lines would break the format."""
    return " ".join(str(exc).split()) or type(exc).__name__


def check_number(name: str, value: Any, *, integer: bool = False, minimum: float | None = None,
                 above: float | None = None, maximum: float | None = None) -> Any:
    """``value`` unchanged when it is a number in range, else a ConfigurationError naming
    ``name``. A boolean is never a number here (``k=True`` is not ``k=1``); with
    ``integer`` a float is refused too. ``above`` is an exclusive lower bound."""
    kinds = (int,) if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kinds) or value != value:  # NaN
        wanted = "a whole number" if integer else "a number"
        raise ConfigurationError(f"{name} must be {wanted}, got {value!r}.")
    if minimum is not None and value < minimum:
        raise ConfigurationError(f"{name} must be {minimum:g} or more, got {value!r}.")
    if above is not None and value <= above:
        raise ConfigurationError(f"{name} must be more than {above:g}, got {value!r}.")
    if maximum is not None and value > maximum:
        raise ConfigurationError(f"{name} must be at most {maximum:g}, got {value!r}.")
    return value


def __getattr__(name: str) -> Any:
    if name == "describe_source":  # moved in 0.2; this alias goes in the next release
        warnings.warn("rir.errors.describe_source is now rir.inputs.describe.describe_source; "
                      "import it from there (the old name goes in the next release).",
                      DeprecationWarning, stacklevel=2)
        from rir.inputs.describe import describe_source

        return describe_source
    raise AttributeError(f"module 'rir.errors' has no attribute {name!r}")
