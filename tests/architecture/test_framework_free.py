"""The core package must import and work without LangChain or LlamaIndex installed."""

from __future__ import annotations

import subprocess
import sys

BLOCKER = """
import importlib.abc, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split('.')[0] in ('langchain', 'langchain_core', 'langchain_openai',
                                  'llama_index', 'langchain_rir', 'llama_index_rir'):
            raise ImportError(f'{name} is blocked in this test')
        return None
sys.meta_path.insert(0, Block())
"""


def test_every_core_module_imports_without_frameworks() -> None:
    code = BLOCKER + """
import importlib, pkgutil, rir
names = sorted(m.name for m in pkgutil.walk_packages(rir.__path__, "rir."))
for name in names:
    importlib.import_module(name)
loaded = sorted(m for m in sys.modules if m.split('.')[0] in
                ('langchain', 'langchain_core', 'llama_index', 'langchain_rir', 'llama_index_rir'))
assert not loaded, loaded
print(len(names), "modules ok")
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=180)
    assert done.returncode == 0, done.stderr[-2000:]
    count = int(done.stdout.split()[0])
    assert count > 80  # every module of the core, not a handful


def test_core_imports_and_searches_without_frameworks() -> None:
    code = BLOCKER + """
import rir, rir.cli, rir.eval, rir.prompting.build, rir.results.extract, rir.prompting
import rir.prompting.hit_documents, rir.prompting.cost
from rir.engines import google_lens, serpapi, cloud_vision, fallback, fusion, auto
from rir.demo import build_demo_index, demo_query
query, _ = demo_query()
result = rir.ReverseImageSearch(build_demo_index(), cache=False).search(query, k=2)
assert result.hits[0].title == "Grace Hopper", result
rir.cli.build_parser()
print("ok")
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=180)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().endswith("ok")


def test_cli_commands_that_call_a_model_say_when_the_adapter_is_missing(tmp_path) -> None:
    code = BLOCKER + f"""
import rir.cli
from rir.demo import demo_query
query, _ = demo_query()
path = {str(tmp_path / "q.jpg")!r}
open(path, "wb").write(query.data)
raise SystemExit(rir.cli.main(["ask", path, "Who is this?", "--dry-run", "--engine", "local"]))
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=180)
    assert done.returncode == 2, done.stderr[-2000:]
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "LangChain adapter cannot be imported" in lines[0], lines
    assert "Traceback" not in done.stderr
