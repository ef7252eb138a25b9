"""The one loopback HTTP server of the test suite: a threaded server on 127.0.0.1 whose routes
tests define.

    server.route("/a.jpg", Route(body=jpeg, headers={"Content-Type": "image/jpeg"}))
    url = server.add("/page", "<html>...</html>")              # body + content type
    server.route("/search.json", lambda request: Route(...), method="POST")
    server.route("/flaky", RESET)                               # close without answering
    server.requests[-1].headers["user-agent"]                   # every request, in order
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Final
from urllib.parse import parse_qs, urlsplit

__all__ = ["RESET", "LocalServer", "Request", "Route"]

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
