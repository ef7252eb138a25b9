"""``rir eval`` as a new user meets it: a 20-item offline run, interrupted, resumed, scored."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.eval.helpers import read_jsonl, write_jsonl
from tests.eval.test_datasets import INFOSEEK_SAMPLE

# Runs the real ``rir`` entry point (registering ``eval`` if the CLI does not list it yet).
BOOT = ("import sys, rir.cli as c\n"
        "c._COMMANDS = c._COMMANDS if 'eval' in c._COMMANDS else (*c._COMMANDS, 'eval')\n"
        "sys.exit(c.main(sys.argv[1:]))")


def _wait_for_lines(path: Path, count: int, process: subprocess.Popen, limit_s: float) -> None:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline and process.poll() is None:
        if path.exists() and path.read_bytes().count(b"\n") >= count:
            return
        time.sleep(0.05)
    raise AssertionError(f"{path} did not reach {count} lines (exit code {process.poll()})")


def test_twenty_item_run_interrupted_resumed_scored_and_compared(tmp_path: Path,
                                                                 cli: Any) -> None:
    folder = tmp_path / "demo"
    code, out, _ = cli("eval", "make-demo", folder)
    assert code == 0 and "20 items" in out
    dataset, index = folder / "dataset.jsonl", folder / "demo-index.rir"
    base, rir_out = folder / "base.jsonl", folder / "rir.jsonl"

    code, out, _ = cli("eval", "run", dataset, "--model", "fake:best-guess", "--index", index,
                       "--context", "none", "--out", base, "--no-progress")
    assert code == 0 and "20 item(s) run (20 ok, 0 failed)" in out

    run_rir = ["eval", "run", str(dataset), "--model", "fake:best-guess", "--model-option",
               "delay_s=0.15", "--index", str(index), "--context", "text", "--out",
               str(rir_out), "-j", "2", "--no-progress"]
    process = subprocess.Popen([sys.executable, "-c", BOOT, *run_rir], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env=dict(os.environ))
    try:
        _wait_for_lines(rir_out, 4, process, limit_s=60)
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130
    assert "interrupted" in err and "again to resume" in err
    before = read_jsonl(rir_out)  # the interrupted file is valid JSONL
    assert 4 <= len(before) < 20

    code, out, _ = cli(*run_rir)
    assert code == 0
    assert f"{len(before)} already done" in out
    rows = read_jsonl(rir_out)
    assert sorted(r["id"] for r in rows) == [f"demo-{n:02d}" for n in range(1, 21)]

    code, out, _ = cli("eval", "score", rir_out, "--metric", "answer_in_pred")
    assert code == 0
    last = out.splitlines()[-1]
    assert re.fullmatch(r"answer_in_pred: \d+\.\d\d% \(\d+/20\)", last)
    assert re.search(r"^people\s+\d+\s+4\s+", out, re.MULTILINE)

    code, out, _ = cli("eval", "score", rir_out, "--metric", "answer_in_pred", "--json")
    data = json.loads(out)
    assert data["total"] == 20 and set(data["categories"]) == {"nature", "objects", "people",
                                                               "space"}

    plot = folder / "lift.png"
    code, out, _ = cli("eval", "compare", base, rir_out, "--metric", "answer_in_pred",
                       "--plot", plot, "--seed", "3", "--resamples", "1000")
    assert code == 0
    assert "baseline: 0.00% (0/20)" in out
    assert re.search(r"absolute lift: \+\d+\.\d\d pp \(95% CI \+\d+\.\d\d pp to", out)
    assert "paired bootstrap: 1000 resamples, seed 3" in out
    assert re.search(r"flipped: \d+ wrong -> right, 0 right -> wrong", out)
    assert plot.read_bytes()[:4] == b"\x89PNG"
    code, again, _ = cli("eval", "compare", base, rir_out, "--metric", "answer_in_pred",
                         "--seed", "3", "--resamples", "1000")
    # Same seed, same report (the plot line aside).
    assert again.splitlines() == [line for line in out.splitlines()
                                  if not line.startswith("plot: ")]


def test_compare_json_has_lifts_ci_and_flips(tmp_path: Path, cli: Any) -> None:
    base = write_jsonl(tmp_path / "b.jsonl", [
        {"id": "1", "answers": ["a"], "prediction": "a", "category": "x"},
        {"id": "2", "answers": ["b"], "prediction": "-", "category": "y"}])
    rir = write_jsonl(tmp_path / "r.jsonl", [
        {"id": "1", "answers": ["a"], "prediction": "a", "category": "x"},
        {"id": "2", "answers": ["b"], "prediction": "b", "category": "y"}])
    code, out, _ = cli("eval", "compare", base, rir, "--metric", "em", "--json",
                       "--labels", "gpt,gpt+rir", "--resamples", "100")
    data = json.loads(out)
    assert code == 0 and data["labels"] == ["gpt", "gpt+rir"]
    assert data["absolute_lift"] == pytest.approx(0.5) and data["relative_lift"] == 1.0
    assert len(data["absolute_lift_ci95"]) == 2 and data["gained"] == ["2"]
    assert data["categories"]["y"]["treatment"]["hits"] == 1


def test_bad_input_exits_2_with_a_useful_message(tmp_path: Path, cli: Any) -> None:
    code, _, err = cli("eval", "score", tmp_path / "missing.jsonl", "--metric", "em")
    assert code == 2 and "does not exist" in err
    write_jsonl(tmp_path / "d.jsonl", [{"id": "a", "image": "a.jpg", "question": "q",
                                        "answers": ["x"]}])
    code, _, err = cli("eval", "run", tmp_path / "d.jsonl", "--model", "fake:parrot",
                       "--engine", "local", "--out", tmp_path / "r.jsonl")
    assert code == 2 and "--index" in err
    code, _, err = cli("eval", "score", tmp_path / "d.jsonl", "--metric", "judge")
    assert code == 2 and "--judge-model" in err
    code, _, err = cli("eval", "compare", tmp_path / "d.jsonl", tmp_path / "d.jsonl",
                       "--metric", "em", "--labels", "only-one")
    assert code == 2 and "--labels" in err


def test_all_items_failing_exits_1(tmp_path: Path, cli: Any, demo: Any) -> None:
    write_jsonl(tmp_path / "d.jsonl", [{"id": "a", "image": "missing.jpg", "question": "q",
                                        "answers": ["x"]}])
    code, _, err = cli("eval", "run", tmp_path / "d.jsonl", "--model", "fake:parrot",
                         "--index", demo.index, "--out", tmp_path / "r.jsonl", "--no-progress")
    assert code == 1 and "1 item(s) failed" in err
    assert read_jsonl(tmp_path / "r.jsonl")[0]["error"].startswith("InvalidImageError")


def test_convert_question_files(tmp_path: Path, cli: Any) -> None:
    questions = tmp_path / "infoseek.json"
    questions.write_text(json.dumps(INFOSEEK_SAMPLE), encoding="utf-8")
    code, out, _ = cli("eval", "convert", "infoseek", questions, "--out", tmp_path / "d.jsonl",
                       "--image-root", "https://example.org/infoseek")
    assert code == 0 and "2 items written" in out and "(2 categories)" in out
    rows = read_jsonl(tmp_path / "d.jsonl")
    assert rows[0]["image"] == "https://example.org/infoseek/oven_05018274.jpg"
    assert rows[1]["meta"]["answer_range"] == [133.2, 162.8]
