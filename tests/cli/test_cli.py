"""The rir command: commands work, errors are one line with the right exit code."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from benchmarks.transforms import TRANSFORMS
from rir import EngineTimeoutError, register_engine
from rir.cli import main
from rir.demo import available_demo_photos
from rir.engines import Engine
from tests.cli.helpers import run
from tests.images import photo


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("photos")
    rows = []
    for photo_info, path in available_demo_photos()[:5]:
        Image.open(path).convert("RGB").save(folder / f"{path.stem}.jpg", quality=92)
        rows.append({"file": f"{path.stem}.jpg", "title": photo_info.title,
                     "caption": photo_info.caption})
    (folder / "captions.jsonl").write_text("\n".join(json.dumps(r) for r in rows))
    return folder


def test_index_add_search_stats(capsys, folder: Path, tmp_path: Path) -> None:
    index = tmp_path / "i.rir"
    code, out, _ = run(capsys, "index", "add", str(folder), "--index", str(index),
                       "--captions", str(folder / "captions.jsonl"))
    assert code == 0 and "5 images indexed" in out
    query = tmp_path / "q.jpg"
    TRANSFORMS["crop_offcenter_70"](Image.open(folder / "grace_hopper.jpg")).save(query)
    code, out, _ = run(capsys, "index", "search", str(query), "--index", str(index))
    assert code == 0 and "Grace Hopper" in out and "Best guess" in out
    code, out, _ = run(capsys, "index", "search", str(query), "--index", str(index), "--json")
    assert code == 0 and json.loads(out)["hits"][0]["title"] == "Grace Hopper"
    code, out, _ = run(capsys, "index", "stats", "--index", str(index))
    assert code == 0 and json.loads(out)["images"] == 5
    code, out, _ = run(capsys, "search", str(query), "--index", str(index), "-k", "1", "--json")
    result = json.loads(out)
    assert code == 0 and result["engine"] == "local" and len(result["hits"]) == 1


def test_default_index_location_from_env(capsys, folder: Path, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RIR_INDEX", str(tmp_path / "default.rir"))
    assert run(capsys, "index", "add", str(folder))[0] == 0
    code, out, _ = run(capsys, "index", "stats")
    assert code == 0 and json.loads(out)["path"] == str(tmp_path / "default.rir")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["search", "missing.jpg", "--index", "{index}"], "No such file"),
        (["search", "{image}", "--engine", "local"], "No local index yet"),
        (["index", "search", "{notimage}", "--index", "{index}"], "not an image"),
        (["index", "search", "{image}", "--index", "{tmp}/nope.rir"], "No index at"),
        (["index", "add", "{tmp}/nowhere", "--index", "{index}"], "No such file or folder"),
        (["search", "{image}", "--engine", "nonsense"], "Unknown engine"),
        (["search", "{image}", "--engine", "local", "-o", "colour=blue"], "Bad options"),
        (["search", "{image}", "--index", "{index}", "-k", "0"], "-k: must be 1 or more"),
        (["search", "http://127.0.0.1:9/a.jpg", "--index", "{index}"], "loopback"),
        (["search", "data:image/png;base64,xx!", "--index", "{index}"], "not valid base64"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(capsys, tmp_path: Path, folder: Path,
                                          argv: list[str], message: str) -> None:
    (tmp_path / "notimage.jpg").write_text("hello")
    (tmp_path / "q.jpg").write_bytes(photo())
    run(capsys, "index", "add", str(folder), "--index", str(tmp_path / "i.rir"))
    values = {"notimage": str(tmp_path / "notimage.jpg"), "index": str(tmp_path / "i.rir"),
              "tmp": str(tmp_path), "image": str(tmp_path / "q.jpg")}
    code, _, err = run(capsys, *[a.format(**values) for a in argv])
    assert code == 2, err
    assert message in err and err.startswith("rir: ") and err.count("\n") == 1
    assert "Traceback" not in err


class TimingOutEngine(Engine):
    name = "always_times_out"

    async def _asearch(self, image, *, k):
        raise EngineTimeoutError("the engine did not answer within 1s; retry later",
                                 engine=self.name)


def test_engine_failure_exit_1_and_debug_traceback(capsys, tmp_path: Path) -> None:
    register_engine("always_times_out", TimingOutEngine)
    image = tmp_path / "q.jpg"
    image.write_bytes(photo())
    code, _, err = run(capsys, "search", str(image), "--engine", "always_times_out", "--no-cache")
    assert code == 1 and "engine error" in err and "retry later" in err
    with pytest.raises(EngineTimeoutError):
        main(["--debug", "search", str(image), "--engine", "always_times_out", "--no-cache"])


def test_demo_runs_offline(capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    code, out, _ = run(capsys, "demo")
    assert code == 0
    assert "Grace Hopper" in out and "<search_results>" in out and "Question:" in out
    assert "set OPENAI_API_KEY" in out
    code, out, _ = run(capsys, "demo", "--context", "screenshot")
    assert code == 0 and "results screenshot" in out


def test_no_command_prints_help(capsys) -> None:
    code, _, err = run(capsys)
    assert code == 2 and "usage: rir" in err


def test_console_script_is_installed(tmp_path: Path) -> None:
    script = Path(sys.executable).with_name("rir")
    env = {**os.environ, "OPENAI_API_KEY": ""}
    done = subprocess.run([str(script), "index", "stats", "--index", str(tmp_path / "x.rir")],
                          capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 2 and "No index at" in done.stderr
