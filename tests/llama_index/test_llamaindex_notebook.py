"""notebooks/llama_index_quickstart.ipynb runs top to bottom, offline, with the labelled mocks."""

from __future__ import annotations

import pytest

from tests.helpers import printed, run_notebook


@pytest.mark.notebook
def test_quickstart_notebook_runs_offline(monkeypatch, tmp_path):
    monkeypatch.setenv("RIR_CACHE_DIR", str(tmp_path / "cache"))
    text = printed(run_notebook("llama_index_quickstart.ipynb", tmp_path, monkeypatch,
                                timeout_s=120))
    assert "MOCK that calls no model" in text
    assert "'Grace Hopper'" in text  # the retriever's top hit
    for mode in ("text", "screenshot", "thumbnails", "none"):
        assert f"--- context={mode}:" in text
    assert "--- context=screenshot: 2 image(s) sent" in text
    assert "[mock LLM: no model was called]" in text
    assert "tool called with" in text and "The reverse_image_search tool returned" in text
    assert "Traceback" not in text
