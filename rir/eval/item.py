"""The unit of an evaluation: one item answered, one record out.

:class:`RunConfig` says how to answer (model, engine, context mode, k, cache,
rate limit, backend); it is plain data, so it travels to Ray workers.
:class:`ItemRunner` builds the engine and, through the configured backend
(:mod:`rir.eval.backends`; LangChain's chain by default), an answerer once, and
turns each :class:`~rir.eval.datasets.EvalItem` into a
:class:`~rir.eval.results.ResultRecord`. An item that fails becomes a record
with ``error`` set; it never raises (only cancellation and Ctrl-C go through).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from rir._aio import run_sync
from rir.engines import Engine, check_k, get_engine
from rir.engines.rate_limited import RateLimitedEngine
from rir.errors import ConfigurationError
from rir.eval.backends import Answer, Answerer, get_backend
from rir.eval.datasets import EvalItem
from rir.eval.results import ResultRecord
from rir.prompts import check_context_mode

__all__ = ["ItemRunner", "RunConfig", "describe_error"]


@dataclass(frozen=True)
class RunConfig:
    """How every item is answered.

    Attributes:
        model: ``"provider:name"`` (e.g. ``openai:gpt-4o``) or a fake
            (``fake:parrot``, ``fake:best-guess``; see :mod:`langchain_rir.testing`).
        model_options: keyword arguments for the chat model (``temperature``, ``delay_s``).
        engine / engine_options: the reverse image search engine (``local`` needs ``path``).
        context: ``text``, ``screenshot``, ``thumbnails`` or ``none`` (the baseline).
        k: hits retrieved and shown to the model.
        cache: ``True`` (default cache file), ``False``, or a cache file path.
        rate_limit: engine searches per second at most, per engine (``None`` = no limit).
        timeout_s: deadline per item; a slower item is recorded as failed.
        allow_private_urls: let image URLs point at private or loopback addresses.
        backend: where the model calls come from (:func:`rir.eval.backends.register_backend`).
    """

    model: str
    model_options: dict[str, Any] = field(default_factory=dict)
    engine: str = "auto"
    engine_options: dict[str, Any] = field(default_factory=dict)
    context: str = "text"
    k: int = 10
    cache: bool | str = True
    rate_limit: float | None = None
    timeout_s: float | None = 300.0
    allow_private_urls: bool = False
    backend: str = "langchain"

    def __post_init__(self) -> None:
        if not isinstance(self.model, str) or not self.model.strip():
            raise ConfigurationError(f"model must be a 'provider:name' string such as "
                                     f"openai:gpt-4o or fake:parrot, got {self.model!r}.")
        check_context_mode(self.context)
        check_k(self.k)
        if self.rate_limit is not None and not self.rate_limit > 0:
            raise ConfigurationError(f"rate_limit must be > 0 searches per second, got "
                                     f"{self.rate_limit!r}.")
        if self.timeout_s is not None and not self.timeout_s > 0:
            raise ConfigurationError(f"timeout_s must be > 0 seconds, got {self.timeout_s!r}.")

    @property
    def engine_label(self) -> str | None:
        """The engine name recorded with each item (``None`` when nothing is retrieved)."""
        return None if self.context == "none" else self.engine

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def describe_error(exc: BaseException) -> str:
    """``"TypeName: message"`` on one line."""
    message = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


def _image_input(image: str) -> str | Path:
    # A Path is the chain's trusted way to pass a local file (str paths are refused there).
    if "://" in image or image.startswith("data:"):
        return image
    return Path(image)


class ItemRunner:
    """Runs items with one answerer built from ``config`` (by its backend).

    ``model`` overrides ``config.model`` with a chat model instance (a notebook's own
    model); ``engine`` overrides the engine with an instance (an in-memory index).
    """

    def __init__(self, config: RunConfig, *, model: Any = None,
                 engine: Engine | None = None) -> None:
        self.config = config
        self.model_label = config.model
        self.engine: Engine | None = None
        if config.context != "none":
            built = engine if engine is not None else get_engine(config.engine,
                                                                 **config.engine_options)
            if config.rate_limit is not None:
                built = RateLimitedEngine(built, config.rate_limit)
            self.engine = built
        self.answerer: Answerer = get_backend(config.backend).answerer(
            config, model=model, engine=self.engine)

    async def arun(self, item: EvalItem) -> ResultRecord:
        """Answer one item; failures are recorded in the returned record, never raised."""
        started = time.perf_counter()
        answer = Answer(answer=None)
        error: str | None = None
        try:
            call = self.answerer.aanswer(_image_input(item.image), item.question,
                                         label=f"eval {item.id}")
            answer = await asyncio.wait_for(call, self.config.timeout_s)
        except asyncio.TimeoutError:
            error = f"TimeoutError: the item took longer than {self.config.timeout_s:g}s"
        except Exception as exc:  # noqa: BLE001 - one failing item must not stop the run
            error = describe_error(exc)
        return ResultRecord(
            id=item.id, question=item.question, answers=item.answers, aliases=item.aliases,
            category=item.category, meta=item.meta,
            prediction=answer.answer if isinstance(answer.answer, str) else None,
            context=self.config.context, engine=self.config.engine_label,
            model=self.model_label, best_guess=answer.best_guess,
            documents=answer.documents, tokens_in=answer.tokens_in,
            tokens_out=answer.tokens_out,
            latency_s=round(time.perf_counter() - started, 4), error=error,
            image=item.image,
            finished_at=datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        )

    def run(self, item: EvalItem) -> ResultRecord:
        """Synchronous twin of :meth:`arun` (scripts, threads, Jupyter, Ray workers)."""
        return run_sync(self.arun(item))

    async def aclose(self) -> None:
        await self.answerer.aclose()
        if self.engine is not None:
            await self.engine.aclose()

