"""notebooks/evaluation.ipynb runs top to bottom offline (demo images, local engine, fake model)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.helpers import printed, run_notebook


@pytest.mark.notebook
def test_evaluation_notebook_runs_offline(monkeypatch: pytest.MonkeyPatch,
                                          tmp_path: Path) -> None:
    notebook = run_notebook("evaluation.ipynb", tmp_path, monkeypatch)
    outputs = printed(notebook)
    assert "20 items in eval-demo/dataset.jsonl" in outputs
    assert "baseline: 20 item(s) run (20 ok, 0 failed)" in outputs
    assert "answer_in_pred: 0.00% (0/20)" in outputs
    assert re.search(r"^answer_in_pred: \d+\.\d\d% \(\d+/20\)$", outputs, re.MULTILINE)
    assert re.search(r"absolute lift: \+\d+\.\d\d pp \(95% CI", outputs)
    assert "paired bootstrap: 5000 resamples, seed 0" in outputs
    images = [output for cell in notebook.cells if cell.cell_type == "code"
              for output in cell.get("outputs", []) if "image/png" in output.get("data", {})]
    assert images, "the comparison chart is displayed"
    assert (tmp_path / "eval-demo" / "lift.png").stat().st_size > 1000
