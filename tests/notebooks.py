"""Executing a notebook from ``notebooks/`` in a test, offline, and reading what it printed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def run_notebook(name: str, workdir: Path, monkeypatch: pytest.MonkeyPatch,
                 timeout_s: int = 180) -> Any:
    """Run ``notebooks/<name>`` top to bottom in ``workdir`` with no OpenAI key; return it."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)  # the kernel inherits the environment
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    client = nbclient.NotebookClient(notebook, timeout=timeout_s, kernel_name="python3",
                                     resources={"metadata": {"path": str(workdir)}})
    client.execute()
    return notebook


def printed(notebook: Any) -> str:
    """Everything the code cells printed (stream outputs and plain-text results)."""
    chunks = []
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        for output in cell.get("outputs", []):
            chunks.append(output.get("text", ""))
            chunks.append(output.get("data", {}).get("text/plain", ""))
    return "\n".join(chunk for chunk in chunks if chunk)
