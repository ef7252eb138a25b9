"""Every example in the README and the documentation site runs (issue 22).

Per page: every Python block compiles; the page's blocks read as one script use no
name they do not define or import; the offline blocks alone do the same (so a page
works without its live blocks); and the offline blocks, run top to bottom as one
script in a fresh directory without network or keys, exit 0.
"""

from __future__ import annotations

import subprocess
from concurrent.futures import Future
from pathlib import Path

import pytest

from tests.docs.helpers import (
    REPO,
    compile_errors,
    documentation_pages,
    failure_report,
    python_blocks,
    script,
    undefined_names,
)

PAGES = [page for page in documentation_pages() if python_blocks(page)]


def _id(page: Path) -> str:
    return str(page.relative_to(REPO))


@pytest.mark.parametrize("page", PAGES, ids=_id)
def test_every_block_compiles_and_defines_what_it_uses(page: Path) -> None:
    blocks = python_blocks(page)
    assert compile_errors(blocks) == []
    assert undefined_names(blocks) == []
    assert undefined_names([block for block in blocks if not block.live]) == []


@pytest.mark.parametrize("page", [p for p in PAGES if any(not b.live for b in python_blocks(p))],
                         ids=_id)
def test_the_offline_blocks_run_as_one_script(
        page: Path, page_runs: dict[Path, Future[subprocess.CompletedProcess[str]]]) -> None:
    result = page_runs[page].result()
    _, starts = script([block for block in python_blocks(page) if not block.live])
    assert result.returncode == 0, failure_report(result, starts)


def test_the_checks_catch_what_they_are_for(tmp_path: Path) -> None:
    """A missing import, a name only a live block defines, and a failing offline block."""
    page = tmp_path / "page.md"
    page.write_text(
        "```python\nimport os\nprint(os.sep, Path)\n```\n\n"
        "<!-- docs: live -->\n```python\nkey = os.environ['OPENAI_API_KEY']\n```\n\n"
        "```python\nprint(key)\n```\n\n"
        "```console\n$ not python\n```\n", encoding="utf-8")
    blocks = python_blocks(page)
    assert [(b.line, b.live) for b in blocks] == [(2, False), (8, True), (12, False)]
    assert [e.split(": ", 1)[1] for e in undefined_names(blocks)] == ["Undefined name `Path`"]
    offline = [b for b in blocks if not b.live]
    assert [e.split(": ", 1)[1] for e in undefined_names(offline)] == [
        "Undefined name `Path`", "Undefined name `key`"]
    assert compile_errors([blocks[0].__class__(page, 1, "def (:", False)]) != []


def test_a_page_cannot_reach_the_network(tmp_path: Path) -> None:
    from tests.docs.helpers import Block, run_page

    code = ("import socket\n"
            "try:\n    socket.create_connection(('192.0.2.1', 80), timeout=5)\n"
            "except OSError as exc:\n    print('refused:', exc)\n"
            "else:\n    raise SystemExit('connected')\n")
    result = run_page([Block(tmp_path / "p.md", 1, code, False)], tmp_path)
    assert result.returncode == 0, result.stderr
    assert "network blocked by the docs tests" in result.stdout
