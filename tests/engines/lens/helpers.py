"""Helpers of the Google Lens tests: the saved pages, and running a coroutine on the
library's loop."""

from __future__ import annotations

from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

from rir._runtime import run_sync
from tests.helpers import shared_path

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
