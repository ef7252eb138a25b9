"""Fixtures for the LangChain tests: an offline "web" of real photos, fake chat models,
and a loopback HTTP server for pages and images. Nothing here reaches the network."""

from __future__ import annotations

import functools
import http.server
import io
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from PIL import Image, ImageOps
from pydantic import Field

from rir.demo import available_demo_photos, demo_query
from rir.engines.local import LocalIndex
from rir.images import QueryImage

# The same portrait as it appears on several pages, as a reverse image search sees the web.
HOPPER_PAGES = (
    ("Grace Hopper - Wikipedia", "https://en.wikipedia.org/wiki/Grace_Hopper", 1.0, None),
    ("Grace Hopper | Biography & Facts | Britannica",
     "https://www.britannica.com/biography/Grace-Hopper", 0.75, None),
    ("Grace Hopper: The Queen of Code - Yale News",
     "https://news.yale.edu/2017/02/10/grace-murray-hopper-1906-1992", 1.0, 0.9),
    ("Rear Admiral Grace Murray Hopper, USN - Naval History and Heritage Command",
     "https://www.history.navy.mil/hopper", 0.9, None),
    ("Celebrating Grace Hopper, a computing pioneer", "https://blog.example.org/grace-hopper",
     0.5, None),
)


def _jpeg(image: Image.Image, quality: int = 85) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


@functools.cache
def web_index() -> LocalIndex:
    """A LocalIndex standing in for the web: Hopper's portrait on 5 pages + 10 other photos."""
    photos = {photo.title: (photo, path) for photo, path in available_demo_photos()}
    base = Image.open(photos["Grace Hopper"][1]).convert("RGB")
    width, height = base.size
    index = LocalIndex(":memory:")
    for number, (title, url, scale, crop) in enumerate(HOPPER_PAGES):
        image = base.resize((int(width * scale), int(height * scale)))
        if crop:
            image = image.crop((0, 0, image.width, int(image.height * crop)))
        if number == 3:
            image = ImageOps.grayscale(image).convert("RGB")
        index.add(_jpeg(image), title=title, url=url)
    for title, (photo, path) in photos.items():
        if title != "Grace Hopper":
            index.add(path, title=photo.title, caption=photo.caption, url=photo.url)
    return index


@functools.cache
def hopper_query() -> QueryImage:
    return demo_query()[0]


@pytest.fixture
def query_image() -> QueryImage:
    return hopper_query()


@pytest.fixture
def index() -> LocalIndex:
    return web_index()


class RecordingChatModel(BaseChatModel):
    """A fake multimodal chat model that records every call and answers a fixed text."""

    answer: str = "The photo shows Grace Hopper, the computer scientist."
    calls: list[list[BaseMessage]] = Field(default_factory=list)
    call_kwargs: list[dict[str, Any]] = Field(default_factory=list)

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: Any = None, **kwargs: Any) -> ChatResult:
        self.calls.append(list(messages))
        self.call_kwargs.append(dict(kwargs))
        return ChatResult(generations=[ChatGeneration(message=AIMessage(self.answer))])

    def _stream(self, messages: list[BaseMessage], stop: list[str] | None = None,
                run_manager: Any = None, **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        self.calls.append(list(messages))
        self.call_kwargs.append(dict(kwargs))
        for word in self.answer.split(" "):
            yield ChatGenerationChunk(message=AIMessageChunk(content=word + " "))

    @property
    def _llm_type(self) -> str:
        return "recording-fake"


@pytest.fixture
def recording_model() -> RecordingChatModel:
    return RecordingChatModel()


# -- a loopback web server ---------------------------------------------------------------------


class _Routes(dict):
    """path -> (status, content type, body bytes, delay seconds)."""


class _Handler(http.server.BaseHTTPRequestHandler):
    routes: _Routes

    def do_GET(self) -> None:
        status, content_type, body, delay = self.routes.get(
            self.path, (404, "text/plain", b"not found", 0.0))
        if delay:
            time.sleep(delay)
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout tests); nothing left to send

    def log_message(self, *args: Any) -> None:
        return


class LocalWeb:
    def __init__(self) -> None:
        self.routes = _Routes()
        handler = type("Handler", (_Handler,), {"routes": self.routes})
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def add(self, path: str, body: bytes | str, content_type: str = "text/html; charset=utf-8",
            status: int = 200, delay: float = 0.0) -> str:
        data = body.encode("utf-8") if isinstance(body, str) else body
        self.routes[path] = (status, content_type, data, delay)
        return self.base + path

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="session")
def local_web() -> Iterator[LocalWeb]:
    web = LocalWeb()
    yield web
    web.close()
