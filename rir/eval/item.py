"""The unit of an evaluation: one item answered, one record out.

:class:`ItemRunner` builds the engine and, through the configured backend
(:mod:`rir.eval.model_backend`; LangChain's chain by default), an answerer once, and
turns each :class:`~rir.eval.datasets.EvalItem` into a
:class:`~rir.eval.results.ResultRecord`. An item that fails becomes a record
with ``error`` set; it never raises (only cancellation and Ctrl-C go through).
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from rir._runtime import run_sync
from rir.engines import Engine, get_engine
from rir.engines.rate_limited import RateLimitedEngine
from rir.eval.datasets import EvalItem
from rir.eval.model_backend import Answer, Answerer, get_backend
from rir.eval.results import ResultRecord
from rir.eval.run_config import RunConfig

__all__ = ["ItemRunner", "describe_error"]


def describe_error(exc: BaseException) -> str:
    """``"TypeName: message"`` on one line."""
    message = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


def _image_input(image: str) -> str | Path:
    # A dataset names its local images by path: a Path says so (a URL or data: URI stays text).
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
            regions=self.config.regions_label,
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

