"""The asyncio runner: offline runs, failures, resume after interruption, concurrency."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from langchain_rir.testing import EvalFakeChatModel, fake_model
from rir.engines import get_engine
from rir.engines.pacing import StartSpacer
from rir.engines.rate_limited import RateLimitedEngine
from rir.errors import ConfigurationError
from rir.eval.datasets import EvalItem, load_dataset
from rir.eval.demo_dataset import DemoDataset
from rir.eval.item import ItemRunner
from rir.eval.results import load_results
from rir.eval.run_config import RunConfig
from rir.eval.runner import arun_eval, run_eval
from rir.eval.scoring import score_records
from tests.eval.helpers import read_jsonl


def config(demo: DemoDataset, **overrides: Any) -> RunConfig:
    options: dict[str, Any] = {"model": "fake:best-guess", "engine": "local",
                               "engine_options": {"path": str(demo.index)}, "context": "text",
                               "k": 3, "cache": False}
    options.update(overrides)
    return RunConfig(**options)


def test_offline_run_writes_one_full_record_per_item(demo: DemoDataset, tmp_path: Path) -> None:
    items = load_dataset(demo.dataset)
    out = tmp_path / "rir.jsonl"
    summary = run_eval(items, out, config(demo), concurrency=3, progress=False)
    assert (summary.ok, summary.failed, summary.skipped) == (20, 0, 0)
    rows = read_jsonl(out)
    assert sorted(r["id"] for r in rows) == sorted(i.id for i in items)
    first = next(r for r in rows if r["id"] == "demo-01")
    assert first["prediction"] == "Grace Hopper" and first["best_guess"] == "Grace Hopper"
    assert first["answers"] == ["Grace Hopper"] and first["category"] == "people"
    assert (first["context"], first["engine"], first["model"]) == ("text", "local",
                                                                    "fake:best-guess")
    assert first["tokens_in"] > 85 and first["tokens_out"] == 2
    assert first["latency_s"] > 0 and first["error"] is None and first["documents"] >= 1
    score = score_records(load_results(out), "answer_in_pred")
    assert score.overall.hits >= 15  # the local index recognises the disguised photos

    baseline = tmp_path / "base.jsonl"
    run_eval(items, baseline, config(demo, context="none"), progress=False)
    base_rows = read_jsonl(baseline)
    assert {r["prediction"] for r in base_rows} == {"I don't know."}
    assert {r["engine"] for r in base_rows} == {None}
    assert score_records(load_results(baseline), "answer_in_pred").overall.hits == 0


def test_a_failing_item_is_recorded_and_retried_on_resume(demo: DemoDataset,
                                                          tmp_path: Path) -> None:
    items = load_dataset(demo.dataset)[:3]
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"this is not an image")
    bad = [EvalItem(id="missing", image=str(tmp_path / "nope.jpg"), question="Who?",
                    answers=["x"]),
           EvalItem(id="broken", image=str(broken), question="Who?", answers=["x"])]
    out = tmp_path / "r.jsonl"
    summary = run_eval([*items[:1], *bad, *items[1:]], out, config(demo), progress=False)
    assert (summary.ok, summary.failed) == (3, 2)
    by_id = {r["id"]: r for r in read_jsonl(out)}
    assert by_id["missing"]["prediction"] is None
    assert "nope.jpg" in by_id["missing"]["error"]
    assert by_id["broken"]["error"].startswith("InvalidImageError")

    # Fix one image and resume: only the failed items run again, the last record wins.
    demo.images.joinpath("demo-01.jpg").replace(tmp_path / "nope.jpg")
    again = run_eval([*items[:1], *bad, *items[1:]], out, config(demo), progress=False)
    assert (again.skipped, again.ok, again.failed) == (3, 1, 1)
    records = {r.id: r for r in load_results(out)}
    assert records["missing"].ok and records["missing"].prediction == "Grace Hopper"
    assert not records["broken"].ok
    skip = run_eval([*items[:1], *bad, *items[1:]], out, config(demo), progress=False,
                    retry_failed=False)
    assert (skip.skipped, skip.ok + skip.failed) == (5, 0)


async def test_interrupted_run_leaves_a_valid_file_and_resumes(demo: DemoDataset,
                                                               tmp_path: Path) -> None:
    items = load_dataset(demo.dataset)
    out = tmp_path / "r.jsonl"
    slow = config(demo, model_options={"delay_s": 0.05})
    written: list[str] = []
    stop = asyncio.Event()

    def on_record(record: Any) -> None:
        written.append(record.id)
        if len(written) == 6:
            stop.set()

    task = asyncio.create_task(arun_eval(items, out, slow, concurrency=2, progress=False,
                                         on_record=on_record))
    await stop.wait()
    task.cancel()  # what Ctrl-C does to asyncio.run's main task
    with pytest.raises(asyncio.CancelledError):
        await task
    rows = read_jsonl(out)  # every line parses
    assert 6 <= len(rows) < 20
    assert [r["id"] for r in rows] == written

    summary = await arun_eval(items, out, slow, concurrency=2, progress=False)
    assert summary.skipped == len(rows) and summary.ok == 20 - len(rows)
    ids = [r["id"] for r in read_jsonl(out)]
    assert sorted(ids) == sorted(i.id for i in items)  # each item exactly once


async def test_concurrency_is_bounded(demo: DemoDataset, tmp_path: Path) -> None:
    in_flight = {"now": 0, "max": 0}

    class CountingModel(EvalFakeChatModel):
        async def _agenerate(self, messages: Any, stop: Any = None, run_manager: Any = None,
                             **kwargs: Any) -> Any:
            in_flight["now"] += 1
            in_flight["max"] = max(in_flight["max"], in_flight["now"])
            await asyncio.sleep(0.02)
            in_flight["now"] -= 1
            return await super()._agenerate(messages, stop, run_manager, **kwargs)

    items = load_dataset(demo.dataset)[:9]
    summary = await arun_eval(items, tmp_path / "r.jsonl", config(demo), concurrency=3,
                              progress=False, model=CountingModel(behaviour="best-guess"))
    assert summary.ok == 9
    assert 1 <= in_flight["max"] <= 3


def test_results_of_another_setup_are_not_mixed(demo: DemoDataset, tmp_path: Path) -> None:
    items = load_dataset(demo.dataset)[:2]
    out = tmp_path / "r.jsonl"
    run_eval(items, out, config(demo), progress=False)
    with pytest.raises(ConfigurationError, match=r"another setup.*--overwrite"):
        run_eval(items, out, config(demo, model="fake:parrot"), progress=False)
    summary = run_eval(items, out, config(demo, model="fake:parrot"), progress=False,
                       overwrite=True)
    assert summary.ok == 2 and {r["model"] for r in read_jsonl(out)} == {"fake:parrot"}


def test_item_runner_with_an_engine_instance_and_rate_limit(demo: DemoDataset) -> None:
    engine = RateLimitedEngine(get_engine("local", path=str(demo.index)), 50.0)
    assert engine.name == "local"
    assert engine.cache_key_options() == engine.inner.cache_key_options()
    runner = ItemRunner(config(demo, rate_limit=50.0), engine=engine)
    item = load_dataset(demo.dataset)[0]
    record = runner.run(item)
    assert record.ok and record.prediction == "Grace Hopper"


def test_start_spacer_books_spaced_slots() -> None:
    spacer = StartSpacer(10.0)
    delays = [spacer.reserve() for _ in range(3)]
    assert delays[0] == 0.0
    assert 0.05 < delays[1] < delays[2] <= 0.2 + 1e-6
    with pytest.raises(ConfigurationError, match="number > 0"):
        StartSpacer(0)


def test_fake_models_and_run_config_validation() -> None:
    parrot = fake_model("fake:parrot")
    reply = parrot.invoke("Question: who?")
    assert reply.content == "Question: who?" and reply.usage_metadata["input_tokens"] == 2
    with pytest.raises(ConfigurationError, match="fake:parrot, fake:best-guess"):
        fake_model("fake:oracle")
    with pytest.raises(ConfigurationError, match="delay_s"):
        fake_model("fake:parrot", temperature=0)
    with pytest.raises(ConfigurationError, match="context mode"):
        RunConfig(model="fake:parrot", context="html")
    with pytest.raises(ConfigurationError, match="rate_limit"):
        RunConfig(model="fake:parrot", rate_limit=0)
    with pytest.raises(ConfigurationError, match="concurrency"):
        run_eval([EvalItem(id="a", image="x.jpg", question="q", answers=["a"])], "x.jsonl",
                 RunConfig(model="fake:parrot"), concurrency=0)
