"""Spreading an evaluation over a Ray cluster (``pip install 'reverse-image-rag[eval]'``).

The unit of work is the same as on one machine: one item through
:class:`~rir.eval.item.ItemRunner`. Each Ray worker builds the chain once per
:class:`~rir.eval.run_config.RunConfig` and keeps it for the items it is sent. The
driver keeps at most ``max_in_flight`` items submitted, writes every record to
the results file as soon as it comes back (so resume, failure records and
Ctrl-C behave exactly as with the asyncio runner), and spaces submissions by
the per-engine ``rate_limit`` (one search per item).

Workers need the package and the model's credentials: on one machine they
inherit the environment; on a cluster install the package on every node (or use
a ``runtime_env``) and pass keys through ``runtime_env={"env_vars": {...}}``.
Local image paths must be readable on the workers (a shared filesystem) or be
URLs.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rir._ray import import_ray, start_ray
from rir._runtime import ProgressBar
from rir.engines.pacing import StartSpacer
from rir.errors import ConfigurationError
from rir.eval.datasets import EvalItem
from rir.eval.item import ItemRunner, describe_error
from rir.eval.plan import RunSummary, plan_run
from rir.eval.results import ResultRecord, ResultsWriter
from rir.eval.run_config import RunConfig

__all__ = ["run_eval_ray", "run_item_in_worker"]

# One ItemRunner per configuration per worker process, reused across items.
_RUNNERS: dict[str, ItemRunner] = {}


def run_item_in_worker(config: dict[str, Any], item: dict[str, Any]) -> dict[str, Any]:
    """The Ray task body: answer one item, return its record as a dict. Never raises."""
    key = repr(sorted(config.items()))
    try:
        runner = _RUNNERS.get(key)
        if runner is None:
            runner = _RUNNERS[key] = ItemRunner(RunConfig(**config))
        return runner.run(EvalItem.model_validate(item)).model_dump(mode="json")
    except Exception as exc:  # noqa: BLE001 - building the chain failed on this worker
        return ResultRecord(id=str(item.get("id")), question=item.get("question", ""),
                            answers=item.get("answers", []), aliases=item.get("aliases", []),
                            category=item.get("category"), context=config.get("context"),
                            model=config.get("model"),
                            engine=None if config.get("context") == "none"
                            else config.get("engine"),
                            error=describe_error(exc)).model_dump(mode="json")


def _import_ray() -> Any:
    return import_ray("use --executor asyncio")


def run_eval_ray(
    items: Sequence[EvalItem],
    out: str | os.PathLike[str],
    config: RunConfig,
    *,
    max_in_flight: int = 8,
    address: str | None = None,
    init_options: dict[str, Any] | None = None,
    overwrite: bool = False,
    retry_failed: bool = True,
    progress: bool | None = None,
    num_cpus_per_item: float = 1.0,
) -> RunSummary:
    """Run ``items`` as Ray tasks and append each record to ``out`` as it completes.

    ``address``: a running cluster (``"auto"``, ``"ray://head:10001"``); default
    ``$RAY_ADDRESS``, else a local Ray started for this run (bound to
    ``$RAY_NODE_IP`` or 127.0.0.1) and stopped afterwards. ``init_options`` go to
    ``ray.init`` (e.g. ``{"runtime_env": {"env_vars": {"OPENAI_API_KEY": ...}}}``).
    """
    ray = _import_ray()
    if isinstance(max_in_flight, bool) or not isinstance(max_in_flight, int) \
            or max_in_flight < 1:
        raise ConfigurationError(f"max_in_flight must be a positive integer, got "
                                 f"{max_in_flight!r}.")
    started = time.perf_counter()
    pending = plan_run(items, out, config, overwrite=overwrite, retry_failed=retry_failed)
    if not pending:
        return RunSummary(out=Path(out), total=len(items), skipped=len(items), ok=0, failed=0,
                          elapsed_s=time.perf_counter() - started)
    we_started = start_ray(ray, address, init_options)
    remote_run = ray.remote(num_cpus=num_cpus_per_item, max_retries=0)(run_item_in_worker)
    config_dict = config.as_dict()
    spacer = StartSpacer(config.rate_limit) if config.rate_limit else None
    queue = list(reversed(pending))
    in_flight: dict[Any, EvalItem] = {}
    counts = {"ok": 0, "failed": 0}
    show = sys.stderr.isatty() if progress is None else progress
    try:
        with ResultsWriter(out) as writer, ProgressBar(len(pending), enabled=show,
                                                       label="evaluating (ray)",
                                                       count_failures=True) as bar:
            while queue or in_flight:
                while queue and len(in_flight) < max_in_flight:
                    if spacer is not None:
                        spacer.wait_sync()
                    item = queue.pop()
                    ref = remote_run.remote(config_dict, item.model_dump(mode="json"))
                    in_flight[ref] = item
                done, _ = ray.wait(list(in_flight), num_returns=1)
                for ref in done:
                    item = in_flight.pop(ref)
                    try:
                        record = ResultRecord.model_validate(ray.get(ref))
                    except Exception as exc:  # noqa: BLE001 - a worker died or Ray failed
                        record = ResultRecord(id=item.id, question=item.question,
                                              answers=item.answers, aliases=item.aliases,
                                              category=item.category, context=config.context,
                                              model=config.model, engine=config.engine_label,
                                              error=describe_error(exc))
                    writer.write(record)
                    counts["ok" if record.ok else "failed"] += 1
                    bar.advance(ok=record.ok)
    finally:
        for ref in in_flight:
            ray.cancel(ref, force=True)
        if we_started:
            ray.shutdown()
    return RunSummary(out=Path(out), total=len(items), skipped=len(items) - len(pending),
                      ok=counts["ok"], failed=counts["failed"],
                      elapsed_s=time.perf_counter() - started)
