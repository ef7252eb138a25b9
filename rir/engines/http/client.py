"""``ApiHttp``: the HTTP client, retries and rate limit every API engine shares.

One :class:`httpx.AsyncClient` per engine instance per event loop (engines run
on the sync-twin background loop and on users' own loops), created lazily.
Calls go through a per-engine rate limit (requests per second across all loops,
and at most ``max_concurrency`` in flight per loop) and are retried with
exponential backoff and jitter on timeouts, connection failures, 5xx and 429
(honouring ``Retry-After``); giving up raises the last typed error.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt

from rir._runtime import LoopLocal
from rir.engines.http.error_mapping import (
    EngineConnectionError,
    EngineQuotaExceededError,
    EngineServerError,
    ErrorClassifier,
    error_for_status,
    transport_error,
    with_attempts,
)
from rir.engines.http.secrets import protected_logger, redact_text
from rir.engines.pacing import StartSpacer
from rir.errors import (
    ConfigurationError,
    EngineError,
    EngineRateLimitedError,
    EngineTimeoutError,
    check_number,
)
from rir.inputs.urlfetch import USER_AGENT
from rir.urls import redact_url

__all__ = ["ApiHttp", "RateLimit", "RetryPolicy", "check_base_url"]

logger = protected_logger(__name__)
T = TypeVar("T")
Sleep = Callable[[float], Awaitable[Any]]


@dataclass(frozen=True)
class RetryPolicy:
    """How failed calls are retried.

    Attributes:
        attempts: total tries per call (1 = no retry).
        backoff_s: first backoff; doubles on each retry, with +-50% jitter.
        max_backoff_s: cap on one backoff.
        max_retry_after_s: a ``Retry-After`` longer than this is not waited for; the
            rate-limit error is raised at once so a fallback can move on.
        sleep: the coroutine used to wait (injectable for tests).
    """

    attempts: int = 3
    backoff_s: float = 0.5
    max_backoff_s: float = 8.0
    max_retry_after_s: float = 30.0
    sleep: Sleep = field(default=asyncio.sleep, repr=False, compare=False)

    def __post_init__(self) -> None:
        check_number("RetryPolicy.attempts", self.attempts, integer=True, minimum=1)
        for name in ("backoff_s", "max_backoff_s", "max_retry_after_s"):
            check_number(f"RetryPolicy.{name}", getattr(self, name), minimum=0)


@dataclass(frozen=True)
class RateLimit:
    """A per-engine request budget.

    Attributes:
        requests_per_second: spacing between request starts (``None`` = unlimited).
        max_concurrency: requests in flight at once per event loop (``None`` = unlimited).
    """

    requests_per_second: float | None = None
    max_concurrency: int | None = 4

    def __post_init__(self) -> None:
        if self.requests_per_second is not None:
            check_number("requests_per_second", self.requests_per_second, above=0)
        if self.max_concurrency is not None:
            check_number("max_concurrency", self.max_concurrency, integer=True, minimum=1)


def check_base_url(base_url: str, *, engine: str) -> str:
    """``base_url`` without a trailing slash, or ConfigurationError if it is not http(s)."""
    if not isinstance(base_url, str):
        raise ConfigurationError(f"{engine}: base_url must be a string, got {base_url!r}.")
    try:
        parts = urlsplit(base_url.strip())
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError as exc:
        raise ConfigurationError(
            f"{engine}: base_url '{redact_url(base_url)}' is not a valid URL ({exc})."
        ) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigurationError(
            f"{engine}: base_url must be an http(s) URL such as 'https://example.com', got "
            f"'{redact_url(base_url)}'."
        )
    return base_url.strip().rstrip("/")


class _Limiter:
    """Request spacing shared by every loop, plus a per-loop concurrency semaphore."""

    def __init__(self, rate: RateLimit) -> None:
        # Engines are used from several loops and threads: the spacer is shared by all.
        self._spacer = StartSpacer(rate.requests_per_second) if rate.requests_per_second else None
        concurrency = rate.max_concurrency

        async def make_semaphore() -> asyncio.Semaphore:
            assert concurrency is not None
            return asyncio.Semaphore(concurrency)

        # asyncio primitives belong to one loop, so each loop gets its own semaphore.
        self._semaphores: LoopLocal[asyncio.Semaphore] | None = (
            LoopLocal(make_semaphore) if concurrency else None
        )

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        if self._semaphores is None:
            await self._wait_turn()
            yield
            return
        async with await self._semaphores.get():
            await self._wait_turn()
            yield

    async def _wait_turn(self) -> None:
        if self._spacer is not None:
            await self._spacer.wait()


class ApiHttp:
    """Shared HTTP plumbing of one engine instance.

    Args:
        engine: engine name, used in messages and logs.
        base_url: the provider endpoint (already checked with :func:`check_base_url`).
        timeout_s: per-request deadline.
        retry / rate_limit: see :class:`RetryPolicy` and :class:`RateLimit`.
        headers: extra default headers (never put secrets here that must not be logged;
            httpx does not log headers).
        transport: an httpx transport (tests pass ``httpx.MockTransport``).
        proxy: an outgoing proxy URL.
        max_connections: connection pool size per loop.
        client_options: more ``httpx.AsyncClient`` arguments (cookies, event hooks, ...).
    """

    def __init__(
        self,
        *,
        engine: str,
        base_url: str,
        timeout_s: float = 30.0,
        retry: RetryPolicy | None = None,
        rate_limit: RateLimit | None = None,
        headers: Mapping[str, str] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        proxy: str | None = None,
        max_connections: int = 10,
        client_options: Mapping[str, Any] | None = None,
    ) -> None:
        if isinstance(timeout_s, bool) or not isinstance(timeout_s, (int, float)) \
                or timeout_s <= 0:
            raise ConfigurationError(f"{engine}: timeout_s must be > 0 seconds, got {timeout_s!r}.")
        self.engine = engine
        self.base_url = base_url
        self.timeout_s = float(timeout_s)
        self.retry = retry or RetryPolicy()
        self.rate_limit = rate_limit or RateLimit()
        self._limiter = _Limiter(self.rate_limit)
        self._headers = {"User-Agent": USER_AGENT, "Accept": "application/json",
                         **(headers or {})}
        self._transport = transport
        self._proxy = proxy
        self._max_connections = max_connections
        self._client_options = dict(client_options or {})
        self._clients: LoopLocal[httpx.AsyncClient] = LoopLocal(self._make_client, _close)

    async def _make_client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            headers=self._headers,
            timeout=httpx.Timeout(self.timeout_s, connect=min(10.0, self.timeout_s)),
            limits=httpx.Limits(max_connections=self._max_connections,
                                max_keepalive_connections=self._max_connections),
            transport=self._transport,
            proxy=self._proxy,
            **self._client_options,
        )

    async def client(self) -> httpx.AsyncClient:
        """This engine's client for the running loop."""
        client = await self._clients.get()
        if client.is_closed:  # closed behind our back (e.g. by a library): start afresh
            self._clients.discard()
            client = await self._clients.get()
        return client

    def url(self, path: str) -> str:
        return path if "://" in path else f"{self.base_url}/{path.lstrip('/')}"

    def endpoint_key(self, default: str) -> dict[str, str]:
        """``{"base_url": ...}`` for an engine's cache key when this client talks to another
        endpoint than ``default`` (a proxy, a mirror, a test server), so results fetched
        elsewhere are never served for it; ``{}`` for the default (keys stay as they were).
        Credentials and query string are left out: nothing secret goes into a key."""
        if self.base_url == default.rstrip("/"):
            return {}
        parts = urlsplit(self.base_url)
        where = parts.netloc.rsplit("@", 1)[-1].lower()
        return {"base_url": f"{parts.scheme.lower()}://{where}{parts.path}"}

    async def request(
        self,
        method: str,
        path: str,
        *,
        classify: ErrorClassifier | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        """Send a request (rate-limited, retried); return the response or raise a typed error.

        ``classify(response)`` returns the error for a response (``None`` = success); by
        default any non-2xx status maps through :func:`error_for_status`.
        """
        url = self.url(path)
        check = classify or (lambda r: error_for_status(r, engine=self.engine))

        async def send_once() -> httpx.Response:
            client = await self.client()
            logger.debug("%s: %s %s", self.engine, method, redact_url(url))
            try:
                response = await client.request(method, url, **kwargs)
            except httpx.TransportError as exc:
                raise transport_error(exc, engine=self.engine, url=url,
                                      timeout_s=self.timeout_s) from None
            error = check(response)
            if error is not None:
                raise error
            return response

        return await self.call(send_once, what=f"{method} {redact_url(url)}")

    async def call(self, operation: Callable[[], Awaitable[T]], *, what: str = "call") -> T:
        """Run ``operation`` under the rate limit, retrying it on transient typed errors."""
        policy = self.retry
        retrying = AsyncRetrying(
            stop=stop_after_attempt(policy.attempts),
            wait=self._wait,
            retry=retry_if_exception(self._retryable),
            sleep=policy.sleep,
            before_sleep=lambda state: self._log_retry(state, what),
            reraise=True,
        )
        attempt_number = 0
        try:
            async for attempt in retrying:
                attempt_number = attempt.retry_state.attempt_number
                with attempt:
                    async with self._limiter.slot():
                        return await operation()
        except EngineError as exc:
            raise with_attempts(exc, attempt_number) from None
        raise AssertionError("unreachable: tenacity either returns or raises")  # pragma: no cover

    def _retryable(self, exc: BaseException) -> bool:
        if isinstance(exc, EngineQuotaExceededError):
            return False
        if isinstance(exc, EngineRateLimitedError):
            return exc.retry_after is None or exc.retry_after <= self.retry.max_retry_after_s
        return isinstance(exc, (EngineTimeoutError, EngineServerError, EngineConnectionError))

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, EngineRateLimitedError) and exc.retry_after is not None:
            return exc.retry_after
        policy = self.retry
        backoff = min(policy.max_backoff_s, policy.backoff_s * 2 ** (state.attempt_number - 1))
        return backoff * random.uniform(0.5, 1.5)  # jitter spreads clients apart

    def _log_retry(self, state: RetryCallState, what: str) -> None:
        exc = state.outcome.exception() if state.outcome else None
        wait = state.next_action.sleep if state.next_action else 0.0
        logger.info(
            "%s: %s failed (%s: %s); retry %d/%d in %.2f s",
            self.engine, what, type(exc).__name__, redact_text(str(exc)),
            state.attempt_number, self.retry.attempts - 1, wait,
        )

    async def aclose(self) -> None:
        """Close the running loop's client (other loops close theirs when they end)."""
        await self._clients.aclose()


async def _close(client: httpx.AsyncClient) -> None:
    await client.aclose()
