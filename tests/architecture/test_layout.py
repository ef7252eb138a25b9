"""The layout shows the architecture, and the paths of 0.1 keep working for one release.

``rir/`` is grouped by the stages of the data flow (inputs, engines, results, prompting),
so its top level stays small; no two modules share a file name unless they are the same
kind of thing for different owners (each engine's ``options.py``, each adapter's
``retriever.py``); and every module path that moved in 0.2 still imports, forwarding to
its new home with a DeprecationWarning.
"""

from __future__ import annotations

import importlib
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

from rir._moved import MOVED

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ("rir", "langchain_rir", "llama_index_rir")
# File names that several owners have on purpose: the same kind of thing for each.
SHARED_NAMES = {
    "__init__.py",
    "options.py",  # each engine family's options
    # each adapter's own version of the same piece
    "attachments.py", "messages.py", "retriever.py", "testing.py",
}


def test_the_top_level_of_rir_is_small() -> None:
    modules = sorted(p.name for p in (REPO / "rir").glob("*.py"))
    assert len(modules) <= 8, modules
    packages = sorted(p.name for p in (REPO / "rir").iterdir()
                      if (p / "__init__.py").exists())
    for stage in ("inputs", "engines", "results", "prompting", "eval", "serve", "cli"):
        assert stage in packages


def test_no_two_modules_share_a_file_name() -> None:
    owners: dict[str, list[str]] = defaultdict(list)
    for package in PACKAGES:
        for path in (REPO / package).rglob("*.py"):
            owners[path.name].append(str(path.relative_to(REPO)))
    shared = {name: paths for name, paths in owners.items()
              if len(paths) > 1 and name not in SHARED_NAMES}
    assert shared == {}


def test_the_deprecated_context_module_is_gone() -> None:
    assert not (REPO / "rir" / "context.py").exists()
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("rir.context")


@pytest.mark.parametrize("old", sorted(MOVED))
def test_an_old_path_still_imports_with_a_warning(old: str) -> None:
    sys.modules.pop(old, None)
    with pytest.warns(DeprecationWarning, match=MOVED[old][0].replace(".", r"\.")):
        module = importlib.import_module(old)
    for name in module.__all__:
        new = next(importlib.import_module(t) for t in MOVED[old]
                   if hasattr(importlib.import_module(t), name))
        assert getattr(module, name) is getattr(new, name)


def test_old_names_resolve_to_the_same_objects() -> None:
    code = """
import warnings
warnings.simplefilter("error")
import rir
from rir.results.models import SearchHit
from rir.prompting.build import build_prompt
from rir.inputs.describe import describe_source
warnings.simplefilter("ignore")
from rir.models import SearchHit as old_hit
from rir.prompts import build_prompt as old_build, FENCE_OPEN
from rir.errors import describe_source as old_describe
import rir.engines.local.qdrant_backend
assert old_hit is SearchHit and old_build is build_prompt and old_describe is describe_source
print("ok")
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, cwd=REPO)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "ok"
