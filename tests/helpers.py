"""Helpers shared by every test folder.

* :class:`LocalServer`: the one loopback HTTP server of the test suite, a threaded server on
  127.0.0.1 whose routes tests define::

    server.route("/a.jpg", Route(body=jpeg, headers={"Content-Type": "image/jpeg"}))
    url = server.add("/page", "<html>...</html>")              # body + content type
    server.route("/search.json", lambda request: Route(...), method="POST")
    server.route("/flaky", RESET)                               # close without answering
    server.requests[-1].headers["user-agent"]                   # every request, in order

* :func:`shared_path`: a path inside ../shared, skipping the test when it is absent.
* :func:`run_notebook` / :func:`printed`: executing a notebook from ``notebooks/`` offline,
  and reading what it printed.
* :class:`NewsEngine`: an engine whose hits carry URLs with query strings, tracking
  parameters and fragments. Every entry point that shows hits to a model (the LangChain
  chain and tool, the LlamaIndex query engine and tool spec) is tested with it: the model
  must read ``https://news.example.org/story?id=2`` whole, and never a tracking parameter.

Images for tests are made in :mod:`tests.images`.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Final
from urllib.parse import parse_qs, urlsplit

import pytest

from rir.engines.base import Engine
from rir.inputs.images import QueryImage
from rir.results.models import SearchHit, SearchResult

__all__ = ["GALLERY_URL", "REPO", "RESET", "SHARED", "STORY_URL", "TRACKED_STORY_URL",
           "LocalServer", "NewsEngine", "Request", "Route", "news_hits", "printed",
           "run_notebook", "shared_path"]

#: A route that closes the connection without answering (a reset, for retry tests).
RESET: Final = "RESET"


@dataclass
class Route:
    status: int = 200
    body: bytes | str | Iterable[bytes] = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    send_length: bool = True


@dataclass
class Request:
    """One request as the server saw it (header names lower-cased)."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes


RouteSpec = Route | str | Callable[[Request], Route | str]
_NOT_FOUND = Route(status=404, body=b"not found", headers={"Content-Type": "text/plain"})


class LocalServer:
    """Routes are keyed by (method, path); the query string is not part of the path."""

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], RouteSpec] = {}
        self.requests: list[Request] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:  # keep test output clean
                return

            def _handle(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("content-length") or 0)
                request = Request(self.command, parts.path, parse_qs(parts.query),
                                  {k.lower(): v for k, v in self.headers.items()},
                                  self.rfile.read(length) if length else b"")
                outer.requests.append(request)
                route = outer.routes.get((self.command, parts.path), _NOT_FOUND)
                if callable(route):
                    route = route(request)
                if route == RESET:
                    self.close_connection = True
                    self.connection.close()
                    return
                assert isinstance(route, Route)
                outer._answer(self, route)

            do_GET = do_POST = do_HEAD = _handle

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    @staticmethod
    def _answer(handler: BaseHTTPRequestHandler, route: Route) -> None:
        if route.delay_s:
            time.sleep(route.delay_s)
        body = route.body.encode("utf-8") if isinstance(route.body, str) else route.body
        chunks = [body] if isinstance(body, bytes) else body
        try:
            handler.send_response(route.status)
            for name, value in route.headers.items():
                handler.send_header(name, value)
            if route.send_length and isinstance(body, bytes):
                handler.send_header("Content-Length", str(len(body)))
            else:
                handler.send_header("Connection", "close")
            handler.end_headers()
            for chunk in chunks:
                handler.wfile.write(chunk)
                handler.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            return  # the client hung up on purpose (byte cap, timeout)
        if not route.send_length:
            handler.close_connection = True

    # -- defining routes ----------------------------------------------------------------------

    def route(self, path: str, route: RouteSpec, *, method: str = "GET") -> str:
        self.routes[(method, path)] = route
        return self.url(path)

    def add(self, path: str, body: bytes | str, content_type: str = "text/html; charset=utf-8",
            status: int = 200, delay: float = 0.0, *, method: str = "GET") -> str:
        """Serve ``body`` at ``path`` with a content type; returns its URL."""
        return self.route(path, Route(status=status, body=body, delay_s=delay,
                                      headers={"Content-Type": content_type}), method=method)

    # -- addresses ----------------------------------------------------------------------------

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    base_url = base

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


# -- notebooks --------------------------------------------------------------------------------

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def run_notebook(name: str, workdir: Path, monkeypatch: pytest.MonkeyPatch,
                 timeout_s: int = 180) -> Any:
    """Run ``notebooks/<name>`` top to bottom in ``workdir`` with no OpenAI key; return it."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)  # the kernel inherits the environment
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    client = nbclient.NotebookClient(notebook, timeout=timeout_s, kernel_name="python3",
                                     resources={"metadata": {"path": str(workdir)}})
    client.execute()
    return notebook


def printed(notebook: Any) -> str:
    """Everything the code cells printed (stream outputs and plain-text results)."""
    chunks = []
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        for output in cell.get("outputs", []):
            chunks.append(output.get("text", ""))
            chunks.append(output.get("data", {}).get("text/plain", ""))
    return "\n".join(chunk for chunk in chunks if chunk)


# -- an engine with URLs a model must read whole ----------------------------------------

#: What the model must see for the first hit.
STORY_URL = "https://news.example.org/story?id=2"
#: What the engine returned for it.
TRACKED_STORY_URL = f"{STORY_URL}&utm_source=rss&utm_medium=feed&fbclid=IwAR0abc"
#: A second page: a query string with two parameters and a fragment, nothing to drop.
GALLERY_URL = "https://photos.example.com/gallery.php?album=7&photo=31#caption"


def news_hits() -> list[SearchHit]:
    return [
        SearchHit(title="Flood waters reach the old town", url=TRACKED_STORY_URL,
                  source="news.example.org", snippet="Residents wade through the square.",
                  position=1, score=0.9),
        SearchHit(title="Gallery: the flood in pictures", url=GALLERY_URL,
                  source="photos.example.com", position=2, score=0.7),
    ]


class NewsEngine(Engine):
    """Returns :func:`news_hits` for any image, and the images it was asked to search."""

    name = "news"
    cacheable = False

    def __init__(self) -> None:
        self.searched: list[QueryImage] = []

    async def _asearch(self, image: QueryImage, *, k: int) -> SearchResult:
        self.searched.append(image)
        return SearchResult(hits=news_hits()[:k], best_guess="flood in the old town")


REPO = Path(__file__).resolve().parents[1]


SHARED = Path(os.environ.get("RIR_SHARED_DIR", REPO.parent / "shared"))


def shared_path(*parts: str) -> Path:
    """A path inside ../shared, skipping the test when it is not there."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is not available (../shared is absent)")
    return path
