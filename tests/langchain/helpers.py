"""Helpers of the LangChain tests: the indexed Hopper pages, a recording chat model."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from PIL import Image, ImageOps
from pydantic import Field

from rir.demo import available_demo_photos, demo_query
from rir.engines.local import LocalIndex
from rir.inputs.images import QueryImage
from tests.images import encode

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
        index.add(encode(image), title=title, url=url)
    for title, (photo, path) in photos.items():
        if title != "Grace Hopper":
            index.add(path, title=photo.title, caption=photo.caption, url=photo.url)
    return index


@functools.cache
def hopper_query() -> QueryImage:
    return demo_query()[0]


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
