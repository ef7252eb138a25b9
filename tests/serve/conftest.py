"""Fixtures for the server tests: the demo index on disk, its disguised query, and real
servers on 127.0.0.1 (uvicorn on a free port in a thread; the stdio server as a subprocess).
Nothing here reaches the network."""

from __future__ import annotations

import os
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from rir.demo import build_demo_index, demo_query
from rir.images import QueryImage

pytest.importorskip("mcp")
pytest.importorskip("fastapi")
uvicorn = pytest.importorskip("uvicorn")

REPO = Path(__file__).resolve().parents[2]


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


HOPPER_PAGE = "https://en.wikipedia.org/wiki/Grace_Hopper"


class RunningServer:
    """``app`` served by uvicorn on ``sock`` in a thread, until :meth:`close`."""

    def __init__(self, app: Any, sock: socket.socket) -> None:
        self.port = sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, log_level="warning", lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [sock]},
                                       daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)

    def close(self) -> None:
        self.server.should_exit = True
        self.thread.join(15)


def free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


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


def stdio_command(*args: str) -> tuple[str, list[str], dict[str, str]]:
    """(command, args, env) starting ``rir serve --stdio ARGS`` from this checkout."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    code = "import sys; from rir.cli import main; sys.exit(main())"
    return sys.executable, ["-c", code, "serve", "--stdio", "--no-cache", *args], env
