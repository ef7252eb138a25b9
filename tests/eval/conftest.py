"""Fixtures of the evaluation tests: a demo dataset on disk and an in-process ``rir`` CLI."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import rir.cli
from rir.eval.demo_dataset import DemoDataset, build_demo_dataset


@pytest.fixture(scope="session")
def demo_master(tmp_path_factory: pytest.TempPathFactory) -> DemoDataset:
    return build_demo_dataset(tmp_path_factory.mktemp("demo-master"))


@pytest.fixture
def demo(demo_master: DemoDataset, tmp_path: Path) -> DemoDataset:
    """A private copy of the 20-item demo dataset, images and local index."""
    folder = tmp_path / "demo"
    shutil.copytree(demo_master.dataset.parent, folder)
    return DemoDataset(dataset=folder / "dataset.jsonl", index=folder / "demo-index.rir",
                       images=folder / "images", items=demo_master.items)


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
        ) -> Callable[..., tuple[int, str, str]]:
    """Run ``rir ARGS...`` in process; returns (exit code, stdout, stderr)."""
    if "eval" not in rir.cli._COMMANDS:  # until the lead registers the command
        monkeypatch.setattr(rir.cli, "_COMMANDS", (*rir.cli._COMMANDS, "eval"))

    def run(*args: Any) -> tuple[int, str, str]:
        capsys.readouterr()
        code = rir.cli.main([str(a) for a in args])
        out, err = capsys.readouterr()
        return code, out, err

    return run

