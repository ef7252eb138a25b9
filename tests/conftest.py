"""Shared test fixtures: the ../shared data folder, a scratch cache, a 127.0.0.1 HTTP server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.helpers import LocalServer


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory,
                    monkeypatch: pytest.MonkeyPatch) -> None:
    """Never touch the user's real cache, index or config from tests."""
    base = tmp_path_factory.mktemp("rir-home")
    monkeypatch.setenv("RIR_CACHE_DIR", str(base / "cache"))
    monkeypatch.setenv("RIR_INDEX", str(base / "index.rir"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(base / "config"))


@pytest.fixture
def local_server() -> Iterator[LocalServer]:
    server = LocalServer()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture(scope="session")
def local_web() -> Iterator[LocalServer]:
    """One loopback server for the whole session (web pages for enrichment, images)."""
    server = LocalServer()
    try:
        yield server
    finally:
        server.close()
