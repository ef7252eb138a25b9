"""The shared HTTP plumbing: retries, Retry-After, backoff, rate limit, clients per loop."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import httpx
import pytest

from rir._runtime import run_sync
from rir.engines.http import (
    ApiHttp,
    EngineConnectionError,
    EngineRequestError,
    EngineServerError,
    RateLimit,
    RetryPolicy,
    check_base_url,
    parse_retry_after,
)
from rir.errors import ConfigurationError, EngineRateLimitedError, EngineTimeoutError
from rir.inputs.urlfetch import USER_AGENT
from tests.engines.api.helpers import Recorder, SleepRecorder, json_response
from tests.helpers import RESET


def make_http(recorder: Recorder, retry: RetryPolicy, **kwargs) -> ApiHttp:
    return ApiHttp(engine="testapi", base_url="https://api.example.test", retry=retry,
                   transport=recorder.transport, **kwargs)


def test_retry_after_parses_seconds_and_http_dates() -> None:
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after(" 1.5 ") == 1.5
    assert parse_retry_after("-3") == 0.0
    now = datetime(2026, 5, 14, 12, 0, 0, tzinfo=timezone.utc)
    later = format_datetime(now + timedelta(seconds=120), usegmt=True)
    assert parse_retry_after(later, now=now.timestamp()) == pytest.approx(120)
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None
    assert parse_retry_after("nan") is None


async def test_429_then_success_waits_for_retry_after(
    fast_retry: RetryPolicy, sleeps: SleepRecorder
) -> None:
    recorder = Recorder.sequence(
        json_response({"error": "slow down"}, 429, **{"Retry-After": "2"}),
        json_response({"ok": True}),
    )
    http = make_http(recorder, fast_retry)
    response = await http.request("GET", "search")
    assert response.json() == {"ok": True}
    assert recorder.count == 2
    assert sleeps.waits == [2.0]
    await http.aclose()


async def test_429_until_give_up_raises_rate_limited_after_all_attempts(
    fast_retry: RetryPolicy, sleeps: SleepRecorder
) -> None:
    recorder = Recorder.sequence(json_response({"error": "busy"}, 429, **{"Retry-After": "1"}))
    http = make_http(recorder, fast_retry)
    with pytest.raises(EngineRateLimitedError) as caught:
        await http.request("GET", "search")
    assert recorder.count == 3
    assert sleeps.waits == [1.0, 1.0]
    assert caught.value.retry_after == 1.0
    assert caught.value.engine == "testapi"
    assert "gave up after 3 attempts" in str(caught.value)
    assert "429" in str(caught.value)


async def test_retry_after_beyond_the_cap_is_not_waited_for(sleeps: SleepRecorder) -> None:
    recorder = Recorder.sequence(json_response({}, 429, **{"Retry-After": "3600"}))
    http = make_http(recorder, RetryPolicy(attempts=5, max_retry_after_s=30, sleep=sleeps))
    with pytest.raises(EngineRateLimitedError) as caught:
        await http.request("GET", "search")
    assert recorder.count == 1
    assert sleeps.waits == []
    assert caught.value.retry_after == 3600


async def test_5xx_backs_off_exponentially_with_jitter(sleeps: SleepRecorder) -> None:
    recorder = Recorder.sequence(httpx.Response(503, text="upstream unavailable"))
    policy = RetryPolicy(attempts=4, backoff_s=0.5, max_backoff_s=8, sleep=sleeps)
    with pytest.raises(EngineServerError, match="HTTP 503"):
        await make_http(recorder, policy).request("GET", "search")
    assert recorder.count == 4
    assert len(sleeps.waits) == 3
    for wait, base in zip(sleeps.waits, (0.5, 1.0, 2.0), strict=True):
        assert 0.5 * base <= wait <= 1.5 * base


async def test_backoff_is_capped(sleeps: SleepRecorder) -> None:
    recorder = Recorder.sequence(httpx.Response(500))
    policy = RetryPolicy(attempts=6, backoff_s=1, max_backoff_s=2, sleep=sleeps)
    with pytest.raises(EngineServerError):
        await make_http(recorder, policy).request("GET", "x")
    assert max(sleeps.waits) <= 3.0  # 2 s cap plus at most 50% jitter


async def test_timeouts_are_retried_then_raise_engine_timeout(fast_retry: RetryPolicy) -> None:
    recorder = Recorder.sequence(httpx.ReadTimeout("timed out"))
    http = make_http(recorder, fast_retry, timeout_s=4)
    with pytest.raises(EngineTimeoutError, match=r"within 4 s .*ReadTimeout") as caught:
        await http.request("GET", "search", params={"api_key": "should-not-show-123456"})
    assert recorder.count == 3
    assert "should-not-show" not in str(caught.value)
    assert "https://api.example.test/search" in str(caught.value)


async def test_timeout_then_success(fast_retry: RetryPolicy) -> None:
    recorder = Recorder.sequence(httpx.ConnectTimeout("connect timed out"),
                                 json_response({"ok": 1}))
    response = await make_http(recorder, fast_retry).request("GET", "search")
    assert response.json() == {"ok": 1}


async def test_connection_reset_is_retried_and_typed(fast_retry: RetryPolicy) -> None:
    recorder = Recorder.sequence(httpx.ReadError("[Errno 104] Connection reset by peer"))
    with pytest.raises(EngineConnectionError, match="Connection reset by peer"):
        await make_http(recorder, fast_retry).request("GET", "search")
    assert recorder.count == 3


async def test_connection_reset_by_a_real_server(api_server, fast_retry) -> None:
    api_server.route("/search", RESET)
    http = ApiHttp(engine="testapi", base_url=api_server.base_url, retry=fast_retry)
    with pytest.raises(EngineConnectionError) as caught:
        await http.request("GET", "search")
    assert len(api_server.requests) == 3
    assert "Connection to testapi failed" in str(caught.value)
    await http.aclose()


async def test_4xx_other_than_auth_and_429_is_not_retried(fast_retry, sleeps) -> None:
    recorder = Recorder.sequence(json_response({"error": "bad param"}, 400))
    with pytest.raises(EngineRequestError, match="HTTP 400") as caught:
        await make_http(recorder, fast_retry).request("GET", "search")
    assert isinstance(caught.value, ConfigurationError)
    assert recorder.count == 1 and sleeps.waits == []


async def test_requests_carry_user_agent_and_go_to_base_url(fast_retry) -> None:
    recorder = Recorder.sequence(json_response({}))
    await make_http(recorder, fast_retry).request("GET", "/v1/thing", params={"a": "b"})
    request = recorder.requests[0]
    assert request.headers["user-agent"] == USER_AGENT
    assert str(request.url) == "https://api.example.test/v1/thing?a=b"


async def test_rate_limit_spaces_request_starts(fast_retry) -> None:
    starts: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        starts.append(time.monotonic())
        return json_response({})

    http = make_http(Recorder(handler), fast_retry,
                     rate_limit=RateLimit(requests_per_second=25, max_concurrency=None))
    begin = time.monotonic()
    await asyncio.gather(*(http.request("GET", "x") for _ in range(4)))
    # request starts are 40 ms apart: the fourth cannot start before 120 ms have passed
    assert max(starts) - begin >= 0.12


async def test_max_concurrency_caps_requests_in_flight(fast_retry) -> None:
    state = {"now": 0, "peak": 0}

    async def handler(request: httpx.Request) -> httpx.Response:
        state["now"] += 1
        state["peak"] = max(state["peak"], state["now"])
        await asyncio.sleep(0.01)
        state["now"] -= 1
        return json_response({})

    http = make_http(Recorder(handler), fast_retry, rate_limit=RateLimit(max_concurrency=2))
    await asyncio.gather(*(http.request("GET", "x") for _ in range(6)))
    assert state["peak"] == 2


async def test_one_client_per_engine_per_loop(fast_retry) -> None:
    http = make_http(Recorder.sequence(json_response({})), fast_retry)
    first = await http.client()
    assert await http.client() is first
    other_loop_client = run_sync(http.client())  # the sync twins' background loop
    assert other_loop_client is not first
    assert run_sync(http.client()) is other_loop_client
    await http.aclose()
    assert first.is_closed
    assert not other_loop_client.is_closed
    run_sync(http.aclose())
    assert other_loop_client.is_closed


def test_policies_and_base_url_are_validated() -> None:
    with pytest.raises(ConfigurationError):
        RetryPolicy(attempts=0)
    with pytest.raises(ConfigurationError):
        RateLimit(requests_per_second=0)
    with pytest.raises(ConfigurationError):
        RateLimit(max_concurrency=0)
    with pytest.raises(ConfigurationError, match="http"):
        check_base_url("ftp://example.com", engine="x")
    assert check_base_url("http://127.0.0.1:8080/", engine="x") == "http://127.0.0.1:8080"
    with pytest.raises(ConfigurationError, match="timeout_s"):
        ApiHttp(engine="x", base_url="https://a.test", timeout_s=0)


# -- HttpOptions: the six options, once for every API engine -------------------------------------


def test_http_options_object_and_keywords_configure_every_api_engine(monkeypatch) -> None:
    from rir.engines.cloud_vision import CloudVisionEngine
    from rir.engines.http import HttpOptions
    from rir.engines.serpapi import SerpApiLensEngine

    shared = HttpOptions(base_url="http://127.0.0.1:9/", timeout_s=5,
                         rate_limit=RateLimit(requests_per_second=2.0),
                         proxy="http://user:hunter2@proxy.test:3128")
    serp = SerpApiLensEngine(api_key="k" * 32, http=shared, timeout_s=7)
    vision = CloudVisionEngine(api_key="v" * 32, http=shared)
    assert (serp._http.base_url, serp._http.timeout_s) == ("http://127.0.0.1:9", 7.0)
    assert (vision._http.base_url, vision._http.timeout_s) == ("http://127.0.0.1:9", 5.0)
    assert vision._http.rate_limit.requests_per_second == 2.0
    assert "hunter2" not in repr(shared)
    defaults = SerpApiLensEngine(api_key="k" * 32)
    assert defaults._http.timeout_s == 60.0 and defaults._http.base_url == "https://serpapi.com"


def test_http_options_reject_unknown_names() -> None:
    from rir.engines.serpapi import SerpApiLensEngine

    with pytest.raises(ConfigurationError, match=r"unknown option\(s\) timeout; the HTTP options"):
        SerpApiLensEngine(api_key="k" * 32, timeout=5)
    with pytest.raises(ConfigurationError, match="http must be an HttpOptions"):
        SerpApiLensEngine(api_key="k" * 32, http={"timeout_s": 5})
