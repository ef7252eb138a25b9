"""notebooks/langchain_quickstart.ipynb runs top to bottom offline (fake model, local engine)."""

from __future__ import annotations

from pathlib import Path

import pytest

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "langchain_quickstart.ipynb"


@pytest.mark.notebook
def test_quickstart_notebook_runs_offline(monkeypatch, tmp_path: Path) -> None:
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
    assert "chat model: FakeVisionModel" in outputs
    assert "[FAKE MODEL - set OPENAI_API_KEY for a real answer]" in outputs
    assert "The tool said: Best guess: Grace Hopper" in outputs
    for mode in ("text", "screenshot", "thumbnails", "none"):
        assert f"--- {mode}: " in outputs
    assert "the context's best guess is 'Grace Hopper'" in outputs
    assert "error: InvalidImageError" in outputs  # the batch went on past the broken image
    assert "<search_results>" in outputs and "mode " in outputs
