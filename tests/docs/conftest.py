"""The documentation pages' offline scripts, run two at a time for the whole session."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.docs.helpers import documentation_pages, python_blocks, run_page

PARALLEL_PAGES = 2  # the machines have two cores; each page starts its own interpreter


@pytest.fixture(scope="session")
def page_runs(tmp_path_factory: pytest.TempPathFactory
              ) -> Iterator[dict[Path, Future[subprocess.CompletedProcess[str]]]]:
    """Every page with offline blocks, started at once (two at a time) and awaited per test."""
    pool = ThreadPoolExecutor(max_workers=PARALLEL_PAGES, thread_name_prefix="docs-page")
    runs = {}
    for page in documentation_pages():
        offline = [block for block in python_blocks(page) if not block.live]
        if offline:
            work = tmp_path_factory.mktemp(page.stem)
            runs[page] = pool.submit(run_page, offline, work)
    try:
        yield runs
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
