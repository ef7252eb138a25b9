"""What the engines that combine other engines share (fallback, fusion).

:class:`CompositeEngine` resolves its inner engines (names, ``(name, options)`` pairs
or instances), keys the cache by all of them, runs each with an optional deadline
and closes them together; :func:`engine_failure` records why one failed, with secrets
redacted. :mod:`rir.engines.fallback` and :mod:`rir.engines.fusion` build on it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

from rir.engines.base import Engine
from rir.engines.http.secrets import redact_text
from rir.errors import ConfigurationError, EngineTimeoutError, EngineUnavailableError
from rir.inputs.images import QueryImage
from rir.results.models import EngineFailure, SearchResult

__all__ = ["CompositeEngine", "EngineSpec", "engine_failure", "failure_summary",
           "resolve_engines"]

EngineSpec = str | Engine | tuple[str, Mapping[str, Any]]


def resolve_engines(engines: Sequence[EngineSpec], owner: str, *,
                    skip_unavailable: bool = False) -> tuple[list[Engine], list[EngineFailure]]:
    """Build ``engines``; with ``skip_unavailable``, one that cannot run here (a missing key
    or extra: :class:`EngineUnavailableError`) is left out and reported as a failure."""
    from rir.engines import get_engine  # the registry imports this module lazily

    if isinstance(engines, (str, Engine)) or not isinstance(engines, Sequence) or not engines:
        raise ConfigurationError(
            f"{owner}: engines must be a non-empty list of engine names or Engine instances, "
            f"e.g. engines=['serpapi', 'google_lens']; got {engines!r}."
        )
    resolved: list[Engine] = []
    unavailable: list[EngineFailure] = []
    for spec in engines:
        name, options = (spec[0], dict(spec[1])) if (
            isinstance(spec, tuple) and len(spec) == 2 and isinstance(spec[1], Mapping)
        ) else (spec, {})
        try:
            resolved.append(get_engine(name, **options))  # type: ignore[arg-type]
        except EngineUnavailableError as exc:
            if not skip_unavailable:
                raise
            unavailable.append(EngineFailure(engine=str(name), error_type=type(exc).__name__,
                                             message=redact_text(str(exc))))
    if not resolved:
        raise EngineUnavailableError(f"{owner}: none of its engines can run here: "
                                 f"{failure_summary(unavailable)}")
    return resolved, unavailable


def engine_failure(engine: Engine, exc: BaseException) -> EngineFailure:
    if isinstance(exc, asyncio.TimeoutError):
        return EngineFailure(engine=engine.name, error_type="EngineTimeoutError",
                             message=f"{engine.name} did not answer in time.")
    return EngineFailure(engine=engine.name, error_type=type(exc).__name__,
                         message=redact_text(str(exc)))


def failure_summary(failures: Sequence[EngineFailure]) -> str:
    return "; ".join(f"{f.engine}: {f.error_type}: {f.message}" for f in failures)


class CompositeEngine(Engine):
    """An engine made of engines: resolves them, builds its cache key from theirs, closes
    them, and runs each with an optional deadline."""

    def __init__(self, engines: Sequence[EngineSpec], *, timeout_s: float | None,
                 skip_unavailable: bool = False) -> None:
        self.engines, self.unavailable = resolve_engines(engines, self.name,
                                                         skip_unavailable=skip_unavailable)
        if timeout_s is not None and not timeout_s > 0:
            raise ConfigurationError(f"{self.name}: timeout_s must be > 0, got {timeout_s!r}.")
        self.timeout_s = timeout_s
        self.cacheable = all(engine.cacheable for engine in self.engines)  # type: ignore[misc]

    def cache_key_options(self) -> Mapping[str, Any]:
        return {"engines": [{"name": e.name, **e.cache_key_options()} for e in self.engines]}

    def paid_calls(self) -> int:
        """Every inner engine's paid calls: fusion asks them all, and a fallback may have to."""
        return sum(engine.paid_calls() for engine in self.engines)

    async def _run(self, engine: Engine, image: QueryImage, k: int) -> SearchResult:
        if self.timeout_s is None:
            return await engine.asearch(image, k=k)
        try:
            return await asyncio.wait_for(engine.asearch(image, k=k), self.timeout_s)
        except asyncio.TimeoutError:
            raise EngineTimeoutError(
                f"{engine.name} did not answer within {self.timeout_s:g} s inside {self.name}.",
                engine=engine.name,
            ) from None

    async def aclose(self) -> None:
        await asyncio.gather(*(engine.aclose() for engine in self.engines))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(engines={[e.name for e in self.engines]!r})"
