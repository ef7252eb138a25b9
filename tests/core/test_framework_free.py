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


def test_core_imports_and_searches_without_frameworks() -> None:
    code = BLOCKER + """
import rir, rir.cli, rir.eval, rir.context, rir.extract, rir.prompts, rir.documents, rir.cost
from rir.engines import google_lens, serpapi, cloud_vision, combine, auto
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
