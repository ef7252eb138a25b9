"""notebooks/langchain_quickstart.ipynb runs top to bottom offline (fake model, local engine)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import printed, run_notebook


@pytest.mark.notebook
def test_quickstart_notebook_runs_offline(monkeypatch, tmp_path: Path) -> None:
    outputs = printed(run_notebook("langchain_quickstart.ipynb", tmp_path, monkeypatch))
    assert "chat model: FakeVisionModel" in outputs
    assert "[FAKE MODEL - set OPENAI_API_KEY for a real answer]" in outputs
    assert "The tool said: Reverse image search (local) found 1 match." in outputs
    for mode in ("text", "screenshot", "thumbnails", "none"):
        assert f"--- {mode}: " in outputs
    assert "the context's best guess is 'Grace Hopper'" in outputs
    assert "error: InvalidImageError" in outputs  # the batch went on past the broken image
    assert "<search_results>" in outputs and "mode " in outputs
