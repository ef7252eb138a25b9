"""What a run will do and how it reports: shared by the asyncio runner and the Ray executor.

:func:`plan_run` decides which items still need answering (resume, setup check) and
:class:`RunSummary` says what a run did. Both executors import this module; neither
imports the other's internals.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rir.errors import ConfigurationError
from rir.eval.datasets import EvalItem
from rir.eval.results import load_results
from rir.eval.run_config import RunConfig

__all__ = ["RunSummary", "check_concurrency", "plan_run"]


@dataclass
class RunSummary:
    """What a run did: ``skipped`` were already in the file, ``ok``/``failed`` ran now."""

    out: Path
    total: int
    skipped: int
    ok: int
    failed: int
    elapsed_s: float

    def __str__(self) -> str:
        return (f"{self.ok + self.failed} item(s) run ({self.ok} ok, {self.failed} failed), "
                f"{self.skipped} already done, {self.total} in the dataset; results in "
                f"{self.out} ({self.elapsed_s:.1f}s)")


def plan_run(
    items: Sequence[EvalItem], out: str | os.PathLike[str], config: RunConfig, *,
    overwrite: bool = False, retry_failed: bool = True,
) -> list[EvalItem]:
    """The items still to run, after checking the existing results match ``config``.

    Refuses to append to a file written with another model, context or engine (the
    runs would mix); ``overwrite=True`` empties the file instead.
    """
    path = Path(out)
    if not items:
        raise ConfigurationError("The dataset has no items to run.")
    ids = [item.id for item in items]
    if len(set(ids)) != len(ids):
        raise ConfigurationError("The dataset repeats item ids; ids must be unique.")
    if overwrite and path.exists():
        path.write_bytes(b"")
    if not path.exists() or path.stat().st_size == 0:
        return list(items)
    existing = load_results(path)
    wanted = (config.model, config.context, config.engine_label, config.regions_label)
    for record in existing:
        found = (record.model, record.context, record.engine, record.regions)
        if record.ok and found != wanted:
            raise ConfigurationError(
                f"'{path}' holds results of another setup ({_setup(found)}) than this run "
                f"({_setup(wanted)}). Use another --out file, or --overwrite to start over."
            )
    done = {r.id for r in existing if r.ok or not retry_failed}
    return [item for item in items if item.id not in done]


def _setup(values: tuple[str | None, ...]) -> str:
    names = ("model", "context", "engine", "regions")
    return ", ".join(f"{n}={v}" for n, v in zip(names, values, strict=True)
                     if n != "regions" or v is not None)


def check_concurrency(concurrency: Any) -> int:
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise ConfigurationError(f"concurrency must be a positive integer, got {concurrency!r}.")
    return concurrency
