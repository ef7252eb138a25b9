"""The Ray executor on a tiny dataset (a local Ray on 127.0.0.1; skipped without Ray)."""

from __future__ import annotations

from pathlib import Path

import pytest

from rir.eval.datasets import EvalItem, load_dataset
from rir.eval.demo_dataset import DemoDataset
from rir.eval.results import load_results
from rir.eval.run_config import RunConfig
from rir.eval.runner import run_eval
from tests.eval.helpers import read_jsonl

ray = pytest.importorskip("ray")


def test_ray_executor_runs_items_records_failures_and_resumes(demo: DemoDataset,
                                                               tmp_path: Path) -> None:
    items = load_dataset(demo.dataset)[:3]
    missing = EvalItem(id="missing", image=str(tmp_path / "nope.jpg"), question="Who?",
                       answers=["x"])
    config = RunConfig(model="fake:best-guess", engine="local",
                       engine_options={"path": str(demo.index)}, context="text", k=3,
                       cache=False)
    out = tmp_path / "ray.jsonl"
    run_eval(items[:1], out, config, progress=False)  # one item already done locally
    summary = run_eval([*items, missing], out, config, executor="ray", concurrency=2,
                       progress=False,
                       init_options={"num_cpus": 2, "log_to_driver": False})
    assert not ray.is_initialized()  # the Ray it started is stopped again
    assert (summary.skipped, summary.ok, summary.failed) == (1, 2, 1)
    records = {r.id: r for r in load_results(out)}
    assert set(records) == {item.id for item in items} | {"missing"}
    assert records["demo-02"].prediction == "Grace Hopper"
    assert records["demo-03"].best_guess == "Eileen Collins"
    assert records["missing"].error.startswith("InvalidImageError")
    assert len(read_jsonl(out)) == 4  # one line per item, nothing run twice
