"""A fake Google Lens on 127.0.0.1 for the engine's tests and benchmark.

It replays Lens' entry points and pages: ``/uploadbyurl`` redirects to a results
page, ``/v3/upload`` takes a multipart ``encoded_image`` and redirects too, and
``/search`` answers according to a *scenario* named in the URL path, so one
server serves every test at once::

    http://127.0.0.1:PORT/s/<scenario>[+delay=0.5][+page=real]/uploadbyurl?url=...

Scenarios: ``results`` (default page: few-cards; the udm=48 view serves
exact-matches, udm=37 products, udm=44 the scenario's page), ``exact``, ``empty``
(no results), ``consent`` (a consent wall until the consent cookie is set),
``sorry`` (a /sorry/ captcha page, HTTP 429), ``interstitial`` (the JavaScript
interstitial), ``unblock`` (an interstitial that clears itself), ``unknown``,
``dynamic`` (results rendered late by script), ``scroll`` (lands on the Visual
matches view, udm=44, whose cards arrive by script as it is scrolled: 12 sent, 60
in all), ``webonly`` / ``aionly`` / ``verifying`` / ``webhp`` (degraded pages),
``flaky`` (degraded once, then results), ``nourl`` / ``urlwrong`` (``/uploadbyurl``
cannot use the URL; uploads work), ``error500``, ``drop`` (connection closed without
an answer), ``hang`` (never answers), ``stall`` (headers and half the page, then
nothing). ``charset=NAME`` serves the page in that encoding; ``stream=gzip`` sends
it gzipped and chunked, in pieces, as Google does. ``page=real`` serves the real
saved Lens page from ../shared.
"""

from __future__ import annotations

import email.parser
import email.policy
import functools
import gzip
import hashlib
import http.cookies
import os
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

PAGES = Path(__file__).parent / "pages"
_REPO = Path(__file__).resolve().parents[3]
SHARED_LENS = Path(os.environ.get("RIR_SHARED_DIR", _REPO.parent / "shared")) / "fixtures" / "lens"
REAL_PAGE = SHARED_LENS / "lens-visual-matches-2026-05.html"
REAL_INTERSTITIAL = SHARED_LENS / "blocked-js-interstitial.html"
CONSENT_COOKIE = "SOCS"
_IMAGE_MAGIC = (b"\xff\xd8\xff", b"\x89PNG", b"GIF8", b"RIFF")


@dataclass
class Recorded:
    """One request the fake Lens received."""

    method: str
    path: str
    scenario: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    upload_field: str | None = None
    upload_filename: str | None = None
    upload_type: str | None = None
    upload_sha256: str | None = None
    form: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class Scenario:
    name: str
    text: str
    options: dict[str, str] = field(default_factory=dict)

    @classmethod
    def parse(cls, text: str) -> Scenario:
        name, *parts = text.split("+")
        options = dict(part.split("=", 1) for part in parts if "=" in part)
        return cls(name, text, options)

    @property
    def delay(self) -> float:  # seconds the results page is held back
        return float(self.options.get("delay", "0"))


@functools.cache
def _page(name: str) -> str:
    if name == "real":
        return REAL_PAGE.read_text(encoding="utf-8")
    if name == "real-interstitial":
        return REAL_INTERSTITIAL.read_text(encoding="utf-8")
    return (PAGES / f"{name}.html").read_text(encoding="utf-8")


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:  # keep test output quiet
        return

    # -- plumbing ---------------------------------------------------------------------------

    def _send(self, status: int, body: bytes | str = b"", *, content_type: str = "text/html",
              headers: dict[str, str] | None = None) -> None:
        data = body.encode("utf-8") if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", content_type + ("; charset=utf-8"
                                                         if content_type == "text/html" else ""))
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _redirect(self, location: str, status: int = 302,
                  headers: dict[str, str] | None = None) -> None:
        self._send(status, b"", headers={"Location": location, **(headers or {})})

    def _cookies(self) -> dict[str, str]:
        jar = http.cookies.SimpleCookie(self.headers.get("Cookie", ""))
        return {key: morsel.value for key, morsel in jar.items()}

    def _route(self) -> tuple[Scenario | None, str, dict[str, list[str]]]:
        parts = urlsplit(self.path)
        query = parse_qs(parts.query)
        if parts.path.startswith("/s/"):
            _, _, rest = parts.path.partition("/s/")
            scenario_text, _, sub = rest.partition("/")
            scenario_text = unquote(scenario_text)
            if scenario_text == "current":  # whatever the test set on FakeLens.scenario
                scenario_text = self.server.scenario
            return Scenario.parse(scenario_text), "/" + sub, query
        return None, parts.path, query

    def _record(self, scenario: Scenario | None, path: str, query: dict[str, list[str]],
                **upload: Any) -> None:
        self.server.requests.append(Recorded(
            method=self.command, path=path, scenario=scenario.text if scenario else "",
            query=query, headers={k.lower(): v for k, v in self.headers.items()}, **upload))

    # -- verbs ------------------------------------------------------------------------------

    def do_GET(self) -> None:
        scenario, path, query = self._route()
        self._record(scenario, path, query)
        if scenario is None:
            self._serve_static(path)
            return
        base = f"/s/{self._route_text()}"
        if path == "/uploadbyurl":
            if not query.get("url"):
                self._send(400, "<h1>Missing url</h1>")
                return
            if scenario.name in _URL_FAILURES:  # Google could not use the URL
                self._send(200, _page(_URL_FAILURES[scenario.name]))
                return
            self._redirect(f"{base}/search?vsrid=fake1&lns_mode=un&hl="
                           f"{query.get('hl', ['en'])[0]}{_landing(scenario)}")
        elif path == "/search":
            self._search(scenario, base, query)
        elif path == "/consent":
            page = _page("consent").replace("{{BASE}}", base).replace(
                "{{CONTINUE}}", query.get("continue", [base + "/search"])[0])
            self._send(200, page)
        elif path.startswith("/sorry/"):
            self._send(429, _page("sorry"))
        elif path == "/webhp":
            self._send(200, _page("webhp"))
        elif path == "/":
            # Lens' home page, where `rir login` starts; it sets a session cookie.
            self._send(200, "<html><body><h1>Google Lens</h1></body></html>",
                       headers={"Set-Cookie": "NID=fake-session; Path=/; HttpOnly"})
        elif path == "/httpservice/retry/enablejs":
            self._send(200, _page("js-interstitial"))
        else:
            self._send(404, "<h1>Not found</h1>")

    def do_POST(self) -> None:
        scenario, path, query = self._route()
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        base = f"/s/{self._route_text()}"
        if scenario is not None and path == "/v3/upload":
            field_name, filename, content_type, data = _multipart_file(
                self.headers.get("Content-Type", ""), body)
            self._record(scenario, path, query, upload_field=field_name,
                         upload_filename=filename, upload_type=content_type,
                         upload_sha256=hashlib.sha256(data).hexdigest() if data else None)
            if field_name != "encoded_image" or not data.startswith(_IMAGE_MAGIC):
                self._send(400, "<h1>No image in encoded_image</h1>")
                return
            self._redirect(f"{base}/search?vsrid=fake2&lns_mode=un{_landing(scenario)}",
                           status=303)
        elif scenario is not None and path == "/consent/save":
            form = parse_qs(body.decode("utf-8", "replace"))
            self._record(scenario, path, query, form=form)
            value = "rejected" if form.get("set_eom") == ["true"] else "accepted"
            self._redirect(form.get("continue", [base + "/search"])[0], status=303,
                           headers={"Set-Cookie": f"{CONSENT_COOKIE}={value}; Path=/"})
        else:
            self._record(scenario, path, query)
            self._send(404, "<h1>Not found</h1>")

    def _route_text(self) -> str:
        parts = urlsplit(self.path).path.split("/")
        return parts[2] if len(parts) > 2 and parts[1] == "s" else ""

    # -- pages ------------------------------------------------------------------------------

    def _serve_static(self, path: str) -> None:
        if path.startswith("/img/"):
            image = self.server.images.get(path.removeprefix("/img/"))
            if image is not None:
                self._send(200, image, content_type="image/jpeg")
                return
        self._send(404, "<h1>Not found</h1>")

    def _search(self, scenario: Scenario, base: str, query: dict[str, list[str]]) -> None:
        server = self.server
        with server.lock:
            server.inflight[scenario.text] = server.inflight.get(scenario.text, 0) + 1
            server.max_inflight[scenario.text] = max(server.max_inflight.get(scenario.text, 0),
                                                     server.inflight[scenario.text])
        try:
            self._search_page(scenario, base, query)
        finally:
            with server.lock:
                server.inflight[scenario.text] -= 1

    def _search_page(self, scenario: Scenario, base: str, query: dict[str, list[str]]) -> None:
        name = scenario.name
        if scenario.delay:
            time.sleep(scenario.delay)
        if name == "hang":
            time.sleep(float(scenario.options.get("for", "30")))
            self.close_connection = True
            return
        if name == "drop":
            self.close_connection = True
            return
        if name == "stall":
            data = _page("few-cards").encode("utf-8")
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            time.sleep(float(scenario.options.get("for", "30")))
            self.close_connection = True
            return
        if name == "error500":
            self._send(500, "<html><body><h1>Server Error</h1><p>Try again.</p></body></html>")
            return
        if name == "consent" and CONSENT_COOKIE not in self._cookies():
            here = f"{base}/search?{urlsplit(self.path).query}"
            self._redirect(f"{base}/consent?continue={quote(here, safe='')}")
            return
        if name == "sorry":
            self._redirect(f"{base}/sorry/index?continue={quote(base, safe='')}")
            return
        if name == "unblock" and "bgpass" not in self._cookies():
            self._send(200, _page("unblock"))
            return
        if name == "webhp":
            self._redirect(f"{base}/webhp?hl=en")
            return
        if name == "flaky":  # degraded the first time, results when asked again
            with self.server.lock:
                seen = self.server.served.get(scenario.text, 0)
                self.server.served[scenario.text] = seen + 1
            if seen == 0:
                self._send(200, _page("web-results-only"))
                return
        if name == "scroll" and "batch_ms" in scenario.options:  # slower batches, for deadlines
            batch_ms = int(scenario.options["batch_ms"])
            page = _page("scroll-cards").replace("}, 150);", f"}}, {batch_ms});")
            self._send(200, page)
            return
        simple = {"interstitial": scenario.options.get("page", "js-interstitial"),
                  "empty": "no-results", "unknown": "unknown", "scroll": "scroll-cards",
                  **_DEGRADED}
        if name in simple:
            self._send(200, _page(simple[name]))
            return
        if name == "dynamic":
            page = _page("dynamic").replace("{{DELAY_MS}}", scenario.options.get("ms", "600"))
            self._send(200, page)
            return
        if query.get("udm") == ["48"]:
            self._send(200, _page("exact-matches"))
            return
        if query.get("udm") == ["37"]:
            self._send(200, _page("products"))
            return
        page = _page(scenario.options.get("page", "few-cards"))
        charset = scenario.options.get("charset")
        if charset:
            self._send(200, page.encode(charset), content_type=f"text/html; charset={charset}")
            return
        if scenario.options.get("stream") == "gzip":
            self._stream_gzip(page.encode("utf-8"))
            return
        self._send(200, page)

    def _stream_gzip(self, data: bytes, pieces: int = 4) -> None:
        """The page as Google sends it: gzip, chunked, in pieces a moment apart."""
        body = gzip.compress(data)
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        size = -(-len(body) // pieces)
        for start in range(0, len(body), size):
            piece = body[start:start + size]
            self.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
            self.wfile.flush()
            time.sleep(0.05)
        self.wfile.write(b"0\r\n\r\n")


# Scenario -> the page /search serves (degraded answers real users hit).
_DEGRADED = {"webonly": "web-results-only", "aionly": "ai-overview-unavailable",
             "verifying": "verifying"}
# Scenario -> what /uploadbyurl answers instead of redirecting to results.
_URL_FAILURES = {"nourl": "no-image-at-url", "urlwrong": "something-went-wrong"}


def _landing(scenario: Scenario) -> str:
    """The results URL's view and region: ``udm`` (the ``scroll`` scenario lands on the
    Visual matches view, 44, others on All, 26) and ``&gl=XX`` when the scenario plays
    Google choosing the region (``gl=XX``)."""
    udm = scenario.options.get("udm", "44" if scenario.name == "scroll" else "26")
    gl = scenario.options.get("gl")
    return f"&udm={udm}" + (f"&gl={gl}" if gl else "")


def _multipart_file(content_type: str, body: bytes) -> tuple[str | None, str | None, str | None,
                                                             bytes]:
    """The first file part of a multipart/form-data body: field, filename, type, bytes."""
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + body)
    for part in message.iter_parts():
        filename = part.get_filename()
        if filename is not None:
            data = part.get_payload(decode=True) or b""
            return part.get_param("name", header="content-disposition"), filename, \
                part.get_content_type(), data
    return None, None, None, b""


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A browser that read what it needed closes its connections mid-response
        # (the engine stops reading a page once its results are in); not an error.
        if isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
            return
        super().handle_error(request, client_address)
    requests: list[Recorded]
    images: dict[str, bytes]
    scenario: str
    lock: threading.Lock
    inflight: dict[str, int]
    max_inflight: dict[str, int]
    served: dict[str, int]


class FakeLens:
    """The fake Lens server, running in a background thread until :meth:`stop`."""

    def __init__(self) -> None:
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.requests = []
        self._server.images = {}
        self._server.scenario = "results"
        self._server.lock = threading.Lock()
        self._server.inflight = {}
        self._server.max_inflight = {}
        self._server.served = {}
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        name="fake-lens", daemon=True)

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def requests(self) -> list[Recorded]:
        return self._server.requests

    def base_url(self, scenario: str = "current") -> str:
        """Lens' base URL for ``scenario``; ``"current"`` follows :attr:`scenario`."""
        return f"http://127.0.0.1:{self.port}/s/{scenario}"

    @property
    def scenario(self) -> str:
        """What ``/s/current/`` serves (tests set it before each query)."""
        return self._server.scenario

    @scenario.setter
    def scenario(self, value: str) -> None:
        self._server.scenario = value

    def add_image(self, name: str, data: bytes) -> str:
        """Serve ``data`` at ``/img/<name>``; returns its URL."""
        self._server.images[name] = data
        return f"http://127.0.0.1:{self.port}/img/{name}"

    def max_inflight(self, scenario: str) -> int:
        """Most results pages of ``scenario`` the server was answering at once."""
        return self._server.max_inflight.get(scenario, 0)

    def requests_for(self, scenario: str) -> list[Recorded]:
        """Requests made under the scenario text exactly as given to :meth:`base_url`."""
        return [r for r in self.requests if r.scenario == scenario]

    def start(self) -> FakeLens:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FakeLens:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
