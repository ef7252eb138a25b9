"""Everyday defects of issue 22: a dry run that searches only when asked, a closed pipe that
ends quietly, the demo's whole prompt, and the fake chat models by name."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from rir.prompting.texts import SYSTEM_BY_MODE, UNTRUSTED_NOTE
from tests.cli.helpers import run, write_demo_photos

RIR = Path(sys.executable).with_name("rir")


@pytest.fixture
def photo(tmp_path: Path) -> Path:
    return write_demo_photos(tmp_path, count=1)[0]


def test_a_dry_run_without_an_index_or_engine_does_not_search(
        capsys, photo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    searched = []
    monkeypatch.setattr("rir.search.ReverseImageSearch.asearch",
                        lambda *a, **k: searched.append(a))
    code, out, err = run(capsys, "ask", str(photo), "Who is this?", "--dry-run")
    assert code == 0, err
    assert searched == []
    assert "--dry-run did not search: the default engine ('auto') would query the web" in out
    assert "Pass --engine NAME" in out and "<search_results>" not in out
    assert "Question: Who is this?" in out


def test_a_dry_run_searches_the_index_it_is_given(capsys, tmp_path: Path, photo: Path) -> None:
    index = tmp_path / "i.rir"
    assert run(capsys, "index", "add", str(photo), "--title", "The photo", "--index",
               str(index))[0] == 0
    code, out, err = run(capsys, "ask", str(photo), "Who?", "--dry-run", "--index", str(index))
    assert code == 0, err
    assert "<search_results>" in out and "The photo" in out and "did not search" not in out


def test_the_fake_models_answer_by_name(capsys, tmp_path: Path, photo: Path) -> None:
    index = tmp_path / "i.rir"
    run(capsys, "index", "add", str(photo), "--title", "Grace Hopper", "--index", str(index))
    code, out, err = run(capsys, "ask", str(photo), "Who?", "--index", str(index),
                         "--model", "fake:best-guess")
    assert (code, out.strip()) == (0, "Grace Hopper"), err


def test_a_closed_pipe_ends_quietly_with_the_usual_exit_code() -> None:
    demo = subprocess.Popen([str(RIR), "demo"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    assert demo.stdout is not None and demo.stderr is not None
    demo.stdout.readline()
    demo.stdout.close()                 # `rir demo | head -1`
    code = demo.wait(timeout=120)
    assert demo.stderr.read() == ""     # no "unexpected BrokenPipeError"
    assert code == 141                  # 128 + SIGPIPE, as a shell reports for `yes | head`


def test_the_demo_shows_the_whole_system_prompt(capsys) -> None:
    code, out, err = run(capsys, "demo")
    assert code == 0, err
    panel = " ".join(" ".join(line.strip("│ ") for line in out.splitlines()).split())
    assert " ".join(SYSTEM_BY_MODE["text"].split()) in panel
    assert UNTRUSTED_NOTE.split()[-1] in panel  # the system prompt's last word, not cut
