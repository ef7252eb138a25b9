"""Fixtures for the Google Lens tests: the fake Lens server and a browser check.

Engine tests drive a real Chromium against the fake Lens on 127.0.0.1. They run
their coroutines on the library's background loop (``rir._runtime.run_sync``), so an
engine's browser is launched once and reused by every test that shares it.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import pytest

from rir.engines.google_lens.browser import find_browser
from rir.errors import ConfigurationError
from tests.engines.lens.fake_lens import FakeLens


@pytest.fixture(scope="session")
def browser_path() -> str | None:
    """The browser the engine would use; browser tests skip when there is none."""
    try:
        return find_browser(managed_path=None)
    except ConfigurationError as exc:
        pytest.skip(f"no Chromium/Chrome available: {exc}")


@pytest.fixture(scope="session")
def fake() -> Iterator[FakeLens]:
    with FakeLens() as server:
        yield server


_runs = itertools.count(1)


@pytest.fixture
def scenario(fake: FakeLens) -> Iterator[Any]:
    """Set what ``/s/current/`` serves for this test: ``scenario("consent")``."""

    def use(name: str) -> str:
        # A run number keeps each use's requests apart (parametrized tests reuse names).
        fake.scenario = name = f"{name}+run={next(_runs)}"
        return name

    yield use
    fake.scenario = "results"
