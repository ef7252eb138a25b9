"""Start-up imports nothing heavy: facts about ``sys.modules`` in fresh processes, no timings.

``import rir`` imports no submodule until a name is used (PEP 562), and ``rir --version``,
``rir --help`` and ``rir <command> --help`` import the CLI's parsers only (the handler of
a command imports what it needs when it runs). ``rir index search`` loads what a search
needs, and neither pydantic nor asyncio. benchmarks/startup.py measures the time.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

# Packages none of those may import: numerics, images, HTTP, models, terminals, frameworks.
HEAVY = ("numpy", "PIL", "cv2", "skimage", "matplotlib", "httpx", "pydantic", "rich", "bs4",
         "lxml", "playwright", "langchain", "langchain_core", "langgraph", "llama_index",
         "mcp", "fastapi", "uvicorn", "qdrant_client", "ray", "sqlite3")

REPORT = """
import json, sys
{run}
heavy = sorted({{name.split(".")[0] for name in sys.modules}} & set({heavy!r}))
moved = any(type(f).__name__ == "_MovedModuleFinder" for f in sys.meta_path)
print(json.dumps({{"heavy": heavy, "moved": moved, "rir": sorted(
    name for name in sys.modules if name.split(".")[0] == "rir")}}))
"""


def loaded_after(run: str, heavy: tuple[str, ...] = HEAVY) -> dict:
    code = REPORT.format(run=run, heavy=heavy)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_import_rir_loads_nothing_heavy_and_installs_the_old_paths() -> None:
    loaded = loaded_after("import rir")
    assert loaded["heavy"] == [] and loaded["moved"]
    assert loaded["rir"] == ["rir", "rir._moved", "rir.errors"]


def test_a_name_is_imported_when_first_used() -> None:
    loaded = loaded_after("import rir\nrir.SearchHit")
    assert "pydantic" in loaded["heavy"] and "rir.results.models" in loaded["rir"]
    assert "numpy" not in loaded["heavy"] and "rir.search" not in loaded["rir"]


@pytest.mark.parametrize("argv", [
    ["--version"], ["--help"], ["search", "--help"], ["index", "--help"],
    ["index", "search", "--help"], ["index", "add", "--help"], ["demo", "--help"],
    ["ask", "--help"], ["serve", "--help"], ["cache", "--help"], ["login", "--help"],
    ["eval", "run", "--help"], ["doctor", "--help"],
], ids=" ".join)
def test_the_cli_answers_help_and_version_with_its_parsers_only(argv: list[str]) -> None:
    run = ("import contextlib, io\nfrom rir.cli import main\n"
           f"with contextlib.redirect_stdout(io.StringIO()):\n    code = main({argv!r})\n"
           "assert code == 0, code")
    loaded = loaded_after(run)
    assert loaded["heavy"] == []
    ours = {name for name in loaded["rir"] if not name.startswith(("rir.cli", "rir.errors"))}
    # beyond the CLI: the lazy packages and the light modules that give parsers defaults
    assert ours <= {"rir", "rir._moved", "rir.engines", "rir.engines.google_lens",
                    "rir.engines.google_lens.options", "rir.engines.google_lens.session",
                    "rir.eval", "rir.eval.metrics", "rir.inputs", "rir.inputs.describe",
                    "rir.inputs.policy", "rir.prompting", "rir.prompting.spec", "rir.serve",
                    "rir.serve.client_config", "rir.serve.config", "rir.urls"}, sorted(ours)


@pytest.mark.parametrize("table", [False, True], ids=["--json", "table"])
def test_rir_index_search_loads_neither_pydantic_nor_asyncio(tmp_path: Path,
                                                             table: bool) -> None:
    from rir.demo import available_demo_photos, build_demo_index

    if not available_demo_photos():
        pytest.skip("the demo photos (matplotlib, scikit-image) are not installed")
    index = tmp_path / "demo.rir"
    build_demo_index(index).close()
    [(photo, path), *_] = available_demo_photos()
    argv = ["index", "search", str(path), "--index", str(index)] + ([] if table else ["--json"])
    run = ("import contextlib, io\nfrom rir.cli import main\nout = io.StringIO()\n"
           f"with contextlib.redirect_stdout(out):\n    code = main({argv!r})\n"
           f"assert code == 0 and {photo.title!r} in out.getvalue(), (code, out.getvalue())")
    loaded = loaded_after(run, heavy=("pydantic", "asyncio", "httpx", "numpy", "rich"))
    # numpy for the search, rich for the table; pydantic only when a model is asked for
    assert loaded["heavy"] == (["numpy", "rich"] if table else ["numpy"])
