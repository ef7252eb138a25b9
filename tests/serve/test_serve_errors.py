"""The status and shape each library error is answered with (one table for REST and MCP)."""

from __future__ import annotations

import pytest

from rir.errors import (
    AllEnginesFailedError,
    ConfigurationError,
    EngineAuthenticationError,
    EngineBlockedError,
    EngineQuotaExceededError,
    EngineRateLimitedError,
    EngineServerError,
    EngineTimeoutError,
    EngineUnsupportedInputError,
    ImageFetchError,
    ImageTooLargeError,
    InvalidImageError,
    UnsafeURLError,
)
from rir.inputs.urlfetch import ResponseTooLargeError
from rir.serve.error_replies import ServerBusyError, error_reply


@pytest.mark.parametrize(("exc", "status"), [
    (InvalidImageError("not an image"), 400),
    (ImageTooLargeError("over the cap"), 413),
    (ResponseTooLargeError("the URL's body is over the cap"), 413),
    (UnsafeURLError("private address"), 400),
    (ImageFetchError("404 for the URL"), 400),
    (ConfigurationError("k must be positive"), 422),
    (EngineUnsupportedInputError("cannot search a file", engine="x"), 400),
    # the server's own engine key was refused: the client cannot fix that, so not 401/422
    (EngineAuthenticationError("key rejected", engine="serpapi"), 502),
    (EngineBlockedError("captcha", engine="google_lens"), 502),
    (EngineServerError("HTTP 500", engine="serpapi"), 502),
    (AllEnginesFailedError("all failed", engine="fallback"), 502),
    (EngineTimeoutError("slow", engine="serpapi"), 504),
    (EngineRateLimitedError("429", engine="serpapi", retry_after=12.5), 429),
    (EngineQuotaExceededError("out of credits", engine="serpapi"), 429),
    (ServerBusyError("busy", retry_after=3.2), 503),
])
def test_each_library_error_has_its_status(exc: Exception, status: int) -> None:
    reply = error_reply(exc)
    assert reply.status == status
    assert reply.body() == {"error": type(exc).__name__, "detail": str(exc), "hint": reply.hint}
    assert reply.hint and "\n" not in reply.text()
    if status in (429, 503):
        assert int(reply.headers()["Retry-After"]) >= 1
    else:
        assert reply.headers() == {}


def test_retry_after_rounds_up() -> None:
    assert error_reply(EngineRateLimitedError("x", retry_after=12.1)).headers() == {
        "Retry-After": "13"}


def test_an_unexpected_exception_says_only_its_type(caplog) -> None:
    reply = error_reply(KeyError("secret-internal-detail"))
    assert reply.status == 500 and reply.error == "InternalServerError"
    assert "secret-internal-detail" not in reply.detail and "KeyError" in reply.detail
    assert "unexpected KeyError" in caplog.text  # the traceback goes to the server log


@pytest.mark.parametrize(("source", "options"), [
    ("/etc/passwd", {"allow_local_files": False}),                 # "..., or enable ...=True"
    ("file:///etc/passwd", {"allow_local_files": False}),
    ("http://10.0.0.1/a.jpg", {}),                                  # "Pass ...=True if ..."
    ("data:image/png;base64," + "A" * 4000, {"max_bytes": 100}),    # "... or raise max_bytes"
])
def test_a_client_reads_whole_sentences_without_the_operators_options(source, options) -> None:
    """Advice only the server's operator can follow is cut from what a client reads, and
    only that: no sentence is left half-way (a "data: URI" is not the end of one)."""
    import rir
    from rir.errors import RIRError

    with pytest.raises(RIRError) as raised:
        rir.load_image(source, **options)
    detail = error_reply(raised.value).detail
    assert detail.endswith(".") and not detail.endswith("data:.")
    assert "=True" not in detail and "raise max_" not in detail
    if "Local files" in detail:
        assert detail.endswith("pass an http(s) URL or a data: URI.")


@pytest.mark.timeout(20)  # a hang fails here instead of holding the whole run
def test_a_long_detail_is_answered_in_one_pass() -> None:
    """A client-controlled detail of 200,000 characters (an unknown JSON key) is answered
    at once: the advice filter never rescans the text from every character."""
    key = "x" * 200_000
    detail = error_reply(ConfigurationError(
        f"Bad request parameters: {key}: extra inputs are not permitted; send less or raise "
        "max_bytes. Pass allow_private_urls=True if you trust it.")).detail
    assert detail == f"Bad request parameters: {key}: extra inputs are not permitted; send less."
