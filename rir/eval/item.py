"""The unit of an evaluation: one item through the reverse-image-RAG chain, one record out.

:class:`RunConfig` says how to answer (model, engine, context mode, k, cache,
rate limit); it is plain data, so it travels to Ray workers. :class:`ItemRunner`
builds the LangChain chain of :func:`langchain_rir.chain.create_rir_chain` once
and turns each :class:`~rir.eval.datasets.EvalItem` into a
:class:`~rir.eval.results.ResultRecord`. An item that fails becomes a record
with ``error`` set; it never raises (only cancellation and Ctrl-C go through).

LangChain is imported here lazily: the rest of :mod:`rir.eval` is framework-free.
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
from rir.errors import ConfigurationError
from rir.eval.datasets import EvalItem
from rir.eval.ratelimit import RateLimitedEngine
from rir.eval.results import ResultRecord
from rir.prompts import check_context_mode

__all__ = ["ItemRunner", "RunConfig", "describe_error"]


@dataclass(frozen=True)
class RunConfig:
    """How every item is answered.

    Attributes:
        model: ``"provider:name"`` (e.g. ``openai:gpt-4o``) or a fake
            (``fake:parrot``, ``fake:best-guess``; see :mod:`rir.eval.fakes`).
        model_options: keyword arguments for the chat model (``temperature``, ``delay_s``).
        engine / engine_options: the reverse image search engine (``local`` needs ``path``).
        context: ``text``, ``screenshot``, ``thumbnails`` or ``none`` (the baseline).
        k: hits retrieved and shown to the model.
        cache: ``True`` (default cache file), ``False``, or a cache file path.
        rate_limit: engine searches per second at most, per engine (``None`` = no limit).
        timeout_s: deadline per item; a slower item is recorded as failed.
        allow_private_urls: let image URLs point at private or loopback addresses.
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


def _usage_handler() -> Any:
    from langchain_core.callbacks import BaseCallbackHandler

    class UsageRecorder(BaseCallbackHandler):
        """Sums ``usage_metadata`` of every chat model call made for one item."""

        def __init__(self) -> None:
            self.tokens_in: int | None = None
            self.tokens_out: int | None = None

        def on_llm_end(self, response: Any, **kwargs: Any) -> None:
            for generations in response.generations:
                for generation in generations:
                    usage = getattr(getattr(generation, "message", None), "usage_metadata", None)
                    if usage:
                        self.tokens_in = (self.tokens_in or 0) + int(usage.get("input_tokens", 0))
                        self.tokens_out = ((self.tokens_out or 0)
                                           + int(usage.get("output_tokens", 0)))

    return UsageRecorder()


def resolve_eval_model(model: Any, options: dict[str, Any]) -> Any:
    """A chat model from a name (fakes included) or an instance as is."""
    if not isinstance(model, str):
        return model
    if model.startswith("fake:"):
        from rir.eval.fakes import fake_model

        return fake_model(model, **options)
    from langchain_rir.models import resolve_chat_model

    return resolve_chat_model(model, **options)


def _image_input(image: str) -> str | Path:
    # A Path is the chain's trusted way to pass a local file (str paths are refused there).
    if "://" in image or image.startswith("data:"):
        return image
    return Path(image)


class ItemRunner:
    """Runs items through one chain built from ``config``.

    ``model`` overrides ``config.model`` with a chat model instance (a notebook's own
    model); ``engine`` overrides the engine with an instance (an in-memory index).
    """

    def __init__(self, config: RunConfig, *, model: Any = None,
                 engine: Engine | None = None) -> None:
        from langchain_rir.chain import create_rir_chain
        from langchain_rir.retriever import ReverseImageRetriever

        self.config = config
        self.model_label = config.model
        llm = resolve_eval_model(model if model is not None else config.model,
                                 config.model_options)
        if config.context == "none":
            self.engine: Engine | None = None
            # The chain only loads the image in this mode; the retriever never searches.
            retriever = ReverseImageRetriever(engine=config.engine, k=config.k, cache=False,
                                              allow_local_files=True,
                                              allow_private_urls=config.allow_private_urls)
        else:
            built = engine if engine is not None else get_engine(config.engine,
                                                                 **config.engine_options)
            if config.rate_limit is not None:
                built = RateLimitedEngine(built, config.rate_limit)
            self.engine = built
            retriever = ReverseImageRetriever(engine=built, k=config.k, cache=config.cache,
                                              allow_local_files=True,
                                              allow_private_urls=config.allow_private_urls)
        self.chain = create_rir_chain(llm, retriever, context=config.context,
                                      k=config.k).with_sources()

    async def arun(self, item: EvalItem) -> ResultRecord:
        """Answer one item; failures are recorded in the returned record, never raised."""
        usage = _usage_handler()
        started = time.perf_counter()
        output: dict[str, Any] = {}
        error: str | None = None
        try:
            call = self.chain.ainvoke({"image": _image_input(item.image),
                                       "question": item.question},
                                      config={"callbacks": [usage], "run_name": f"eval {item.id}"})
            output = await asyncio.wait_for(call, self.config.timeout_s)
        except asyncio.TimeoutError:
            error = f"TimeoutError: the item took longer than {self.config.timeout_s:g}s"
        except Exception as exc:  # noqa: BLE001 - one failing item must not stop the run
            error = describe_error(exc)
        answer = output.get("answer")
        documents = output.get("documents")
        return ResultRecord(
            id=item.id, question=item.question, answers=item.answers, aliases=item.aliases,
            category=item.category, meta=item.meta,
            prediction=answer if isinstance(answer, str) else None,
            context=self.config.context, engine=self.config.engine_label,
            model=self.model_label, best_guess=output.get("best_guess"),
            documents=len(documents) if isinstance(documents, list) else None,
            tokens_in=usage.tokens_in, tokens_out=usage.tokens_out,
            latency_s=round(time.perf_counter() - started, 4), error=error,
            image=item.image,
            finished_at=datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        )

    def run(self, item: EvalItem) -> ResultRecord:
        """Synchronous twin of :meth:`arun` (scripts, threads, Jupyter, Ray workers)."""
        return run_sync(self.arun(item))

    async def aclose(self) -> None:
        if self.engine is not None:
            await self.engine.aclose()

