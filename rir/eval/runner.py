"""Running a dataset: bounded concurrency, line-by-line results, resume, progress.

    >>> from rir.eval import RunConfig, load_dataset, run_eval
    >>> items = load_dataset("my_questions.jsonl")
    >>> summary = run_eval(items, "results.jsonl", RunConfig(model="openai:gpt-4o",
    ...                    engine="google_lens", context="text"), concurrency=4)

Each finished item is appended to the results file at once. Rerunning with the
same file skips the items already answered (and retries the failed ones unless
``retry_failed=False``), so an interrupted run resumes where it stopped. A
failing item is recorded with its error; it never stops the run. On Ctrl-C the
items in flight are abandoned (they run again on resume) and the file stays
valid. ``executor="ray"`` is in :mod:`rir.eval.ray_executor`.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from rir._runtime import ProgressBar, run_sync
from rir.engines import Engine
from rir.errors import ConfigurationError
from rir.eval.datasets import EvalItem
from rir.eval.item import ItemRunner
from rir.eval.plan import RunSummary, check_concurrency, plan_run
from rir.eval.results import ResultRecord, ResultsWriter
from rir.eval.run_config import RunConfig

__all__ = ["RunSummary", "arun_eval", "plan_run", "run_eval"]

logger = logging.getLogger(__name__)


async def arun_eval(
    items: Sequence[EvalItem],
    out: str | os.PathLike[str],
    config: RunConfig,
    *,
    concurrency: int = 4,
    overwrite: bool = False,
    retry_failed: bool = True,
    progress: bool | None = None,
    model: Any = None,
    engine: Engine | None = None,
    on_record: Callable[[ResultRecord], None] | None = None,
) -> RunSummary:
    """Run ``items`` through the chain with at most ``concurrency`` in flight.

    ``model`` / ``engine``: instances overriding ``config.model`` / ``config.engine``.
    ``progress=None`` shows the bar when stderr is a terminal. ``on_record`` is called
    with every record right after it is written.
    """
    check_concurrency(concurrency)
    started = time.perf_counter()
    pending = plan_run(items, out, config, overwrite=overwrite, retry_failed=retry_failed)
    if not pending:
        return RunSummary(out=Path(out), total=len(items), skipped=len(items), ok=0, failed=0,
                          elapsed_s=time.perf_counter() - started)
    runner = ItemRunner(config, model=model, engine=engine)
    queue: asyncio.Queue[EvalItem] = asyncio.Queue()
    for item in pending:
        queue.put_nowait(item)
    counts = {"ok": 0, "failed": 0}
    show = sys.stderr.isatty() if progress is None else progress

    with ResultsWriter(out) as writer, ProgressBar(len(pending), label="evaluating", enabled=show,
                                                    count_failures=True) as bar:

        async def worker() -> None:
            while True:
                try:
                    item = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                record = await runner.arun(item)
                writer.write(record)  # one whole line, before anything else can interrupt
                counts["ok" if record.ok else "failed"] += 1
                if not record.ok:
                    logger.info("item %s failed: %s", record.id, record.error)
                bar.advance(ok=record.ok)
                if on_record is not None:
                    on_record(record)

        tasks = [asyncio.create_task(worker()) for _ in range(min(concurrency, len(pending)))]
        try:
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await runner.aclose()
    return RunSummary(out=Path(out), total=len(items), skipped=len(items) - len(pending),
                      ok=counts["ok"], failed=counts["failed"],
                      elapsed_s=time.perf_counter() - started)


def run_eval(
    items: Sequence[EvalItem],
    out: str | os.PathLike[str],
    config: RunConfig,
    *,
    executor: str = "asyncio",
    concurrency: int = 4,
    **options: Any,
) -> RunSummary:
    """Synchronous :func:`arun_eval` (works in scripts and Jupyter), or Ray.

    ``executor="ray"`` spreads the items over a Ray cluster; see
    :func:`rir.eval.ray_executor.run_eval_ray` for its options.
    """
    if executor == "ray":
        from rir.eval.ray_executor import run_eval_ray

        return run_eval_ray(items, out, config, max_in_flight=concurrency, **options)
    if executor != "asyncio":
        raise ConfigurationError(f"Unknown executor {executor!r}; choose asyncio or ray.")
    return run_sync(arun_eval(items, out, config, concurrency=concurrency, **options))
