"""One error shape for every server response, ``{error, detail, hint}``, from the library's tree.

The status follows the exception class (400 bad image or unsafe URL, 413 too large,
422 bad parameters, 429 rate limited, 502 engine failed, 503 saturated, 504 timeout);
``detail`` is the library's one-line message (which already names the input and the fix)
and ``hint`` says what the *client* can do. Unexpected exceptions become a 500 that says
only their type: the traceback goes to the server's log, never to the client. Every
field is capped (:data:`MAX_DETAIL_CHARS`): whatever a client sends, an error answer
stays small.
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from rir.errors import (
    ConfigurationError,
    EngineError,
    EngineRateLimitedError,
    EngineTimeoutError,
    EngineUnsupportedInputError,
    ImageFetchError,
    ImageTooLargeError,
    InvalidImageError,
    InvalidRegionError,
    RIRError,
    UnsafeURLError,
    one_line,
)

__all__ = ["HTTP_CLIENT", "MAX_DETAIL_CHARS", "Audience", "BadRequestBodyError", "ErrorReply",
           "RequestRateLimitedError", "ServerBusyError", "UnsupportedMediaTypeError",
           "error_reply", "for_client", "validation_problems"]

logger = logging.getLogger(__name__)

#: The longest ``detail`` an error answer carries (``error`` and ``hint`` are shorter still).
MAX_DETAIL_CHARS = 1000
_MAX_NAME_CHARS = 100
_MAX_HINT_CHARS = 500


class ServerBusyError(RIRError):
    """Every search slot and queue place of an engine is taken; retry after ``retry_after``."""

    def __init__(self, message: str, *, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class RequestRateLimitedError(RIRError):
    """This API key (or client) sent more requests than the server's per-minute limit."""

    def __init__(self, message: str, *, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class UnsupportedMediaTypeError(ConfigurationError):
    """A request body that is neither JSON nor multipart."""


class BadRequestBodyError(ConfigurationError):
    """A request body the server does not parse: malformed, too deep, numbers too long, ..."""


def _capped(text: str, limit: int) -> str:
    """``text`` within ``limit`` characters once JSON-encoded (escapes of non-ASCII text
    count), with an ellipsis when cut."""
    if len(json.dumps(text)) <= limit + 2:
        return text
    low, high = 0, min(len(text), limit)  # the longest prefix that fits, by bisection
    while low < high:
        middle = (low + high + 1) // 2
        if len(json.dumps(text[:middle])) + 6 <= limit + 2:  # 6: the escaped ellipsis
            low = middle
        else:
            high = middle - 1
    return text[:low] + "…"


@dataclass(frozen=True)
class ErrorReply:
    status: int
    error: str
    detail: str
    hint: str
    retry_after: float | None = None

    def body(self) -> dict[str, str]:
        return {"error": _capped(self.error, _MAX_NAME_CHARS),
                "detail": _capped(self.detail, MAX_DETAIL_CHARS),
                "hint": _capped(self.hint, _MAX_HINT_CHARS)}

    def headers(self) -> dict[str, str]:
        if self.retry_after is None:
            return {}
        return {"Retry-After": str(max(1, math.ceil(self.retry_after)))}

    def text(self) -> str:
        """One line for an MCP tool error: the message, then the hint."""
        body = self.body()
        return f"{body['error']}: {body['detail']} Hint: {body['hint']}"


def validation_problems(errors: Sequence[Mapping[str, Any]], *, listed: int = 5) -> str:
    """pydantic's errors as ``field: message; ...``: the first ``listed``, then how many more
    (a body of 100,000 unknown keys gets a short answer, not a list of each)."""
    shown = [f"{'.'.join(str(p) for p in error.get('loc', ())) or 'body'}: {error.get('msg')}"
             for error in errors[:listed]]
    more = len(errors) - len(shown)
    return "; ".join(shown) + (f"; and {more:,} more" if more > 0 else "")


# (exception class, status, hint): the first match wins, so subclasses come first.
_TABLE: tuple[tuple[type[BaseException], int, str], ...] = (
    (ImageTooLargeError, 413, "Send a smaller image (the server's limits are in the detail)."),
    (UnsafeURLError, 400, "Send a public http(s) image URL, or the image itself (upload or "
     "data: URI)."),
    (ImageFetchError, 400, "Check that the URL is a direct, public link to the image, or send "
     "the image itself."),
    (EngineUnsupportedInputError, 400, "This engine cannot search this input; try another "
     "engine or send the image itself."),
    (InvalidImageError, 400, "Send a JPEG, PNG, WebP, GIF, BMP or TIFF image as {inputs}."),
    (ServerBusyError, 503, "The server is at its search capacity; retry after Retry-After "
     "seconds."),
    (RequestRateLimitedError, 429, "Slow down: retry after Retry-After seconds."),
    (EngineRateLimitedError, 429, "The search engine is rate limiting this server; retry "
     "later or pick another engine."),
    (EngineTimeoutError, 504, "The engine did not answer in time; retry, or pick another "
     "engine."),
    (EngineError, 502, "The search engine failed on the server's side; retry later or pick "
     "another engine ({engines} lists them)."),
    (UnsupportedMediaTypeError, 415, "Send application/json or multipart/form-data."),
    (BadRequestBodyError, 400, "Send a JSON object with the documented fields (see "
     "/openapi.json)."),
    (InvalidRegionError, 422, "Give region as 'x1,y1,x2,y2' on the 0-1000 grid of the image "
     "(left, top, right, bottom; x1 < x2, y1 < y2), several boxes as a list, or 'auto'."),
    (ConfigurationError, 422, "Fix the request's parameters ({engines} lists the engines)."),
)


@dataclass(frozen=True)
class Audience:
    """Who reads an error answer, so that its hint names only what that client can do: an
    MCP client reads the ``rir://engines`` resource (it has no ``GET /v1/engines``) and,
    over stdio with ``--allow-dir``, may send local paths."""

    transport: Literal["http", "mcp"] = "http"
    local_files: bool = False

    def fill(self, hint: str) -> str:
        engines = "GET /v1/engines" if self.transport == "http" else "the rir://engines resource"
        inputs = ("an http(s) URL, a data: URI or an upload (this server reads no local files)"
                  if self.transport == "http" else
                  "an http(s) URL, a data: URI or a local path under an --allow-dir directory"
                  if self.local_files else
                  "an http(s) URL or a data: URI (this server reads no local files)")
        return hint.format(engines=engines, inputs=inputs)


HTTP_CLIENT = Audience()
# Library advice about Python options a remote client cannot set (it is the server's
# operator who could): "Pass allow_private_urls=True ...", "..., or enable
# allow_local_files=True if ...", "... or raise max_bytes." A trailing clause goes first,
# then a whole sentence ("." or ";" ends one; "data: URI" is not an end). Sentences are
# anchored after their punctuation: unanchored, "[^.;]*" was tried from every character of
# a long detail (a 50,000-character JSON key took 55 s to answer).
_SERVER_SIDE_CLAUSE = re.compile(
    r",?\s*\bor (?:enable |pass |set )?(?:allow_private_urls|allow_local_files)=True\b[^.;]*"
    r"|,?\s*\bor raise (?:max_bytes|max_pixels)\b"
)
_SERVER_SIDE_SENTENCE = re.compile(
    r"(?:^|(?<=[.;]))\s*[^.;]*\b(?:allow_private_urls|allow_local_files)=True\b[^.;]*[.;]?"
)


def for_client(detail: str) -> str:
    """``detail`` without advice that only the server's operator can follow."""
    if "=True" not in detail and "or raise" not in detail:
        return detail.strip()
    detail = _SERVER_SIDE_CLAUSE.sub("", detail)
    return _SERVER_SIDE_SENTENCE.sub("", detail).strip()


def error_reply(exc: BaseException, audience: Audience = HTTP_CLIENT) -> ErrorReply:
    """The status, body and headers the server answers ``exc`` with, for ``audience``."""
    for kind, status, hint in _TABLE:
        if isinstance(exc, kind):
            retry_after = getattr(exc, "retry_after", None)
            if status == 429 and retry_after is None:
                retry_after = 60.0
            return ErrorReply(status, type(exc).__name__, for_client(one_line(exc)),
                              audience.fill(hint), retry_after if status in (429, 503) else None)
    if isinstance(exc, RIRError):
        return ErrorReply(500, type(exc).__name__, one_line(exc),
                          "An unexpected library error; the server log has the details.")
    logger.error("unexpected %s while serving a request", type(exc).__name__, exc_info=exc)
    return ErrorReply(500, "InternalServerError",
                      f"The server failed unexpectedly ({type(exc).__name__}).",
                      "This is a bug in the server; its log has the traceback.")
