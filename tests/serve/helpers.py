"""Helpers of the serve tests: an engine that waits until the test lets it answer (for
saturation and deadline tests), and real servers on 127.0.0.1 (uvicorn on a free port in a
thread; the stdio server as a subprocess)."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
import threading
import time
from pathlib import Path
from typing import Any

from rir.engines import Engine, register_engine
from rir.inputs.images import QueryImage
from rir.results.models import SearchHit, SearchResult

GATE_ENGINE = "serve_test_gate"


class GateEngine(Engine):
    name = GATE_ENGINE
    cacheable = False
    gate = threading.Event()  # set: searches answer; clear: they wait
    running = 0

    async def _asearch(self, image: QueryImage, *, k: int) -> SearchResult:
        GateEngine.running += 1
        try:
            # A threading.Event: the test thread opens the gate for uvicorn's event loop.
            await asyncio.to_thread(GateEngine.gate.wait, 60)
        finally:
            GateEngine.running -= 1
        return SearchResult(engine=self.name, hits=[SearchHit(title="Gate", url="https://e.x/")])


register_engine(GATE_ENGINE, GateEngine)


REPO = Path(__file__).resolve().parents[2]


HOPPER_PAGE = "https://en.wikipedia.org/wiki/Grace_Hopper"


class RunningServer:
    """``app`` served by uvicorn on ``sock`` in a thread, until :meth:`close`."""

    def __init__(self, app: Any, sock: socket.socket) -> None:
        import uvicorn

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


def stdio_command(*args: str) -> tuple[str, list[str], dict[str, str]]:
    """(command, args, env) starting ``rir serve --stdio ARGS`` from this checkout."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    code = "import sys; from rir.cli import main; sys.exit(main())"
    return sys.executable, ["-c", code, "serve", "--stdio", "--no-cache", *args], env
