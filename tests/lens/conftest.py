"""Fixtures for the Google Lens tests: the fake Lens server, a browser check, helpers.

Engine tests drive a real Chromium against the fake Lens on 127.0.0.1. They run
their coroutines on the library's background loop (``rir._aio.run_sync``), so an
engine's browser is launched once and reused by every test that shares it.
"""

from __future__ import annotations

import io
import itertools
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from PIL import Image

from rir._aio import run_sync
from rir.engines.google_lens.browser import find_browser
from rir.errors import ConfigurationError
from tests.conftest import shared_path
from tests.lens.fake_lens import FakeLens

T = TypeVar("T")
PAGES = Path(__file__).parent / "pages"


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` on the library's background loop (where the shared engines live)."""
    return run_sync(coro)


def page(name: str) -> str:
    return (PAGES / f"{name}.html").read_text(encoding="utf-8")


def real_page() -> str:
    return shared_path("fixtures", "lens", "lens-visual-matches-2026-05.html").read_text(
        encoding="utf-8")


def real_interstitial() -> str:
    return shared_path("fixtures", "lens", "blocked-js-interstitial.html").read_text(
        encoding="utf-8")


def jpeg_bytes(color: tuple[int, int, int] = (30, 90, 160), size: tuple[int, int] = (96, 64)
               ) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


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
