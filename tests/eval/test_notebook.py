"""notebooks/evaluation.ipynb runs top to bottom offline (demo images, local engine, fake model)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "evaluation.ipynb"


@pytest.mark.notebook
def test_evaluation_notebook_runs_offline(monkeypatch: pytest.MonkeyPatch,
                                          tmp_path: Path) -> None:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)  # the kernel inherits the environment
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(notebook, timeout=180, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    outputs = "\n".join(
        output.get("text", "") for cell in notebook.cells if cell.cell_type == "code"
        for output in cell.get("outputs", []) if output.get("output_type") == "stream"
    )
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
