"""Fixtures for the server tests: the demo index on disk, its disguised query, and real
servers on 127.0.0.1 (uvicorn on a free port in a thread; the stdio server as a subprocess).
Nothing here reaches the network."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from rir.demo import build_demo_index, demo_query
from rir.inputs.images import QueryImage
from tests.serve.helpers import RunningServer, free_socket

pytest.importorskip("mcp")
pytest.importorskip("fastapi")
uvicorn = pytest.importorskip("uvicorn")



@pytest.fixture(scope="session")
def demo_index_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("serve-index") / "demo.rir"
    build_demo_index(path).close()
    return path


@pytest.fixture(scope="session")
def hopper() -> QueryImage:
    """A cropped, rescaled, re-encoded copy of the Grace Hopper portrait."""
    return demo_query("Grace Hopper")[0]


@pytest.fixture(scope="session")
def hopper_uri(hopper: QueryImage) -> str:
    return hopper.as_data_uri()








@pytest.fixture
def serve_http() -> Iterator[Callable[..., RunningServer]]:
    """``serve_http(**config)``: a running HTTP server for a ServeConfig of those fields."""
    from rir.serve import ServeConfig, create_app

    running: list[RunningServer] = []

    def start(*, asker: Any = None, **fields: Any) -> RunningServer:
        sock = free_socket()
        config = ServeConfig(port=sock.getsockname()[1], cache=False, **fields)
        server = RunningServer(create_app(config, asker=asker), sock)
        running.append(server)
        return server

    yield start
    for server in running:
        server.close()


