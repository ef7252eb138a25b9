"""notebooks/llama_index_quickstart.ipynb runs top to bottom, offline, with the labelled mocks."""

from __future__ import annotations

from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "llama_index_quickstart.ipynb"


def _output_text(cell) -> str:
    chunks = []
    for output in cell.get("outputs", []):
        if "text" in output:
            chunks.append(output["text"])
        chunks.append(output.get("data", {}).get("text/plain", ""))
    return "".join(chunks)


@pytest.mark.notebook
def test_quickstart_notebook_runs_offline(monkeypatch, tmp_path):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)  # the kernel inherits this env
    monkeypatch.setenv("RIR_CACHE_DIR", str(tmp_path / "cache"))
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(notebook, timeout=120, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()

    text = "\n".join(_output_text(cell) for cell in notebook.cells if cell.cell_type == "code")
    assert "MOCK that calls no model" in text
    assert "'Grace Hopper'" in text  # the retriever's top hit
    for mode in ("text", "screenshot", "thumbnails", "none"):
        assert f"--- context={mode}:" in text
    assert "--- context=screenshot: 2 image(s) sent" in text
    assert "[mock LLM: no model was called]" in text
    assert "tool called with" in text and "The reverse_image_search tool returned" in text
    assert "Traceback" not in text
