"""The documentation site builds strictly, and what it promises holds (issue 22).

``mkdocs build --strict`` turns every broken link, anchor, nav entry and API reference
into a failure; the CLI reference is generated from the parser; the README is short and
its links work both on the repository page and in the built site.
"""

from __future__ import annotations

import html
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.docs.helpers import REPO

README_MAX_LINES = 150
_LINK = re.compile(r"\]\(([^)\s]+)\)")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    built = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=REPO, capture_output=True, text=True, timeout=300, check=False,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    assert built.returncode == 0, built.stderr[-5000:]
    return out


def _text(page: Path) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", page.read_text(encoding="utf-8")))


def test_the_readme_is_short() -> None:
    lines = (REPO / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= README_MAX_LINES


def test_the_readme_links_work_on_the_repository_page() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    local = [link.split("#")[0] for link in _LINK.findall(readme)
             if not link.startswith(("http://", "https://", "#"))]
    assert local, "the README links into docs/"
    assert [link for link in local if not (REPO / link).exists()] == []


def test_the_site_home_is_the_readme_with_its_links_rewritten(site: Path) -> None:
    home = (site / "index.html").read_text(encoding="utf-8")
    assert "Give multimodal LLM applications eyes on the web" in home
    assert 'href="getting-started/' in home and 'href="docs/' not in home
    assert 'href="changelog/' in home


def test_the_cli_reference_is_generated_from_the_parser(site: Path) -> None:
    from docs.hooks.cli_reference import iter_commands
    from rir.cli import build_parser

    page = _text(site / "cli" / "index.html")
    commands = list(iter_commands(build_parser()))
    assert len(commands) > 10
    for command in commands:
        assert command.prog in page
        for action in command._actions:
            for flag in action.option_strings:
                assert flag in page, f"{command.prog} {flag}"


def test_the_site_has_an_llms_txt_and_an_api_reference(site: Path) -> None:
    llms = (site / "llms.txt").read_text(encoding="utf-8")
    assert llms.startswith("# reverse-image-rag")
    for page in ("getting-started", "langchain", "llama-index", "serving/clients"):
        assert f"{page}" in llms
    reference = _text(site / "reference" / "rir" / "index.html")
    assert "ReverseImageSearch" in reference and "search_many" in reference
