"""``ask`` / ``aask`` and ``rir ask``: one call, one clear line without a model, --dry-run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import rir.cli as cli
from langchain_rir import aask, ask
from rir.engines import display_options
from rir.errors import ConfigurationError
from rir.prompting.texts import FENCE_CLOSE, FENCE_OPEN
from tests.langchain.helpers import RecordingChatModel, web_index

QUESTION = "Who is this, and what is she known for?"


def test_ask_with_a_model_instance_and_a_local_file(query_image, tmp_path: Path) -> None:
    path = tmp_path / "photo.jpg"
    path.write_bytes(query_image.data)
    model = RecordingChatModel()
    answer = ask(str(path), QUESTION, model=model, engine=web_index(), cache=False, k=3)
    assert answer == model.answer
    human = model.calls[0][1]
    assert human.content[0]["base64"] == query_image.as_base64()
    assert "Grace Hopper" in human.content[1]["text"]
    # the caller's engine is not closed by ask
    assert web_index().search(query_image, k=1).hits


async def test_aask_returns_sources_in_each_mode(query_image) -> None:
    for mode in ("text", "screenshot", "thumbnails", "none"):
        model = RecordingChatModel()
        output = await aask(query_image.data, QUESTION, model=model, engine=web_index(),
                            context=mode, return_sources=True, cache=False, k=2)
        assert output["answer"] == model.answer
        assert output["best_guess"] == (None if mode == "none" else "Grace Hopper")
        assert (output["screenshot"] is not None) == (mode == "screenshot")
        assert output["context_size"].mode == mode


def test_ask_fails_fast_without_a_model_key(query_image, monkeypatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(ConfigurationError, match="OPENAI_API_KEY"):
        ask(query_image.data, QUESTION, engine="serpapi")  # no engine is built either


def test_display_options_for_browser_and_auto() -> None:
    assert display_options("google_lens", screenshot=True, headless=False) == {
        "headless": False, "screenshot": "viewport"}
    assert display_options("auto", headless=True, options={"hl": "de"}) == {
        "hl": "de", "google_lens": {"headless": True}}
    assert display_options("auto", headless=False, options={
        "google_lens": {"headless": True}}) == {"google_lens": {"headless": True}}
    assert display_options("serpapi", headless=True, options={"hl": "de"}) == {"hl": "de"}


# -- the command line --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_files(tmp_path_factory) -> tuple[Path, Path]:
    from rir.demo import build_demo_index, demo_query

    folder = tmp_path_factory.mktemp("ask")
    build_demo_index(folder / "demo.rir").close()
    (folder / "query.jpg").write_bytes(demo_query()[0].data)
    return folder / "demo.rir", folder / "query.jpg"


@pytest.fixture
def rir_main(monkeypatch):
    if "ask" not in cli._COMMANDS:  # until the lead registers the command
        monkeypatch.setattr(cli, "_COMMANDS", (*cli._COMMANDS, "ask"))
    return cli.main


def test_cli_without_a_model_says_so_in_one_line(rir_main, demo_files, monkeypatch,
                                                 capsys) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    index, query = demo_files
    code = rir_main(["ask", str(query), QUESTION, "--index", str(index)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("rir: error: no chat model configured")
    assert "--dry-run" in err


def test_cli_dry_run_prints_the_exact_prompt(rir_main, demo_files, monkeypatch,
                                             capsys) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    index, query = demo_files
    code = rir_main(["ask", str(query), QUESTION, "--index", str(index), "--dry-run",
                     "--context", "thumbnails"])
    out = capsys.readouterr().out
    assert code == 0
    assert out.startswith("[system]\n") and "\n[user]\n" in out
    assert "<image: query image, image/jpeg" in out and "<image: result 1" in out
    assert FENCE_OPEN in out and FENCE_CLOSE in out and "[1] Grace Hopper" in out
    assert f"Question: {QUESTION}" in out
    assert "# context size as openai:gpt-4o would count it: thumbnails:" in out
    assert "no model was called" in out


def test_cli_answers_with_sources(rir_main, demo_files, monkeypatch, capsys) -> None:
    model = RecordingChatModel()

    def resolve(name: Any, **kwargs: Any) -> RecordingChatModel:
        assert name == "fake:recording"
        return model

    monkeypatch.setattr("langchain_rir.chat_models.resolve_chat_model", resolve)
    index, query = demo_files
    code = rir_main(["ask", str(query), QUESTION, "--index", str(index), "--model",
                     "fake:recording", "--sources", "-k", "3"])
    out = capsys.readouterr().out
    assert code == 0
    assert out.splitlines()[0] == model.answer
    assert "Best guess from the results: Grace Hopper" in out and "[1] Grace Hopper" in out


def test_cli_model_failure_is_one_line_without_the_key(rir_main, demo_files, monkeypatch,
                                                       capsys) -> None:
    secret = "sk-test-do-not-print-0123456789"
    monkeypatch.setenv("OPENAI_API_KEY", secret)

    class Failing(RecordingChatModel):
        def _generate(self, *args: Any, **kwargs: Any) -> Any:
            raise RuntimeError(f"Incorrect API key provided: {secret}.")

    monkeypatch.setattr("langchain_rir.chat_models.resolve_chat_model", lambda *a, **k: Failing())
    index, query = demo_files
    code = rir_main(["ask", str(query), QUESTION, "--index", str(index)])
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith("rir: engine error: The model openai:gpt-4o failed: RuntimeError")
    assert secret not in err and "***" in err


def test_cli_bad_image_is_exit_2(rir_main, demo_files, capsys, tmp_path: Path) -> None:
    index, _ = demo_files
    code = rir_main(["ask", str(tmp_path / "missing.jpg"), QUESTION, "--index", str(index),
                     "--dry-run"])
    assert code == 2
    assert "No such file" in capsys.readouterr().err


def test_show_result_draws_the_hits_without_a_display(query_image, tmp_path: Path,
                                                      monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    ask(query_image.data, QUESTION, model=RecordingChatModel(), engine=web_index(),
        show_result=True, cache=False, k=3)
    [png] = tmp_path.glob("rir-show-*.png")
    assert png.read_bytes().startswith(b"\x89PNG")
