"""Offline stand-ins for LLMs: for tests, notebooks and dry runs. No model is ever called.

* :class:`RecordingMultimodalLLM`: a ``MockLLM`` that keeps every message it is
  sent, images included (``MockLLM`` itself flattens messages to a text prompt and
  drops the images), and answers with a labelled summary of what it received.
* :func:`scripted_tool_calling_llm`: a function-calling mock for ``FunctionAgent``
  that calls one tool with fixed arguments, then answers from the tool's output.
"""

from __future__ import annotations

import base64
import copy
import re
from collections.abc import AsyncGenerator, Generator, Sequence
from typing import Any

from llama_index.core.base.llms.types import (
    ChatMessage,
    ChatResponse,
    ChatResponseAsyncGen,
    ChatResponseGen,
    ImageBlock,
    MessageRole,
    TextBlock,
    ToolCallBlock,
)
from llama_index.core.llms.callbacks import llm_chat_callback
from llama_index.core.llms.mock import MockFunctionCallingLLM, MockLLM
from pydantic import Field

__all__ = ["MOCK_LABEL", "RecordingMultimodalLLM", "scripted_tool_calling_llm"]

MOCK_LABEL = "[mock LLM: no model was called]"
_BEST_GUESS = re.compile(r"Best guess from the results: (.+)")


class RecordingMultimodalLLM(MockLLM):
    """A mock chat LLM that records the exact messages it receives, images included.

    ``calls`` holds a deep copy of each message list; ``answer`` fixes the reply,
    otherwise the reply describes what arrived (images, their types and sizes, the
    best guess line of the context, the question), prefixed with :data:`MOCK_LABEL`.
    """

    calls: list[list[ChatMessage]] = Field(default_factory=list, exclude=True)
    methods: list[str] = Field(default_factory=list, exclude=True)
    answer: str | None = None

    def __init__(self, answer: str | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("is_chat_model", True)
        super().__init__(**kwargs)
        self.answer = answer

    @classmethod
    def class_name(cls) -> str:
        return "RecordingMultimodalLLM"

    # -- what was received --------------------------------------------------------------------

    @property
    def last_messages(self) -> list[ChatMessage]:
        if not self.calls:
            raise AssertionError("RecordingMultimodalLLM has not been called yet.")
        return self.calls[-1]

    def images(self, call: int = -1) -> list[tuple[bytes, str | None]]:
        """``(raw bytes, MIME type)`` of every image block of one call, in order."""
        found = []
        for message in self.calls[call]:
            for block in message.blocks:
                if isinstance(block, ImageBlock):
                    data = block.resolve_image(as_base64=True).read()
                    found.append((base64.b64decode(data), block.image_mimetype))
        return found

    def texts(self, call: int = -1, role: MessageRole | None = None) -> list[str]:
        """The text blocks of one call (optionally of one role), in order."""
        return [block.text for message in self.calls[call]
                if role is None or message.role == role
                for block in message.blocks if isinstance(block, TextBlock)]

    def _record(self, messages: Sequence[ChatMessage], method: str) -> str:
        self.calls.append([copy.deepcopy(m) for m in messages])
        self.methods.append(method)
        return self.answer if self.answer is not None else self._describe(len(self.calls) - 1)

    def _describe(self, call: int) -> str:
        images = self.images(call)
        user_text = "\n".join(self.texts(call, MessageRole.USER))
        shown = "; ".join(f"{mime or 'unknown type'} {len(data):,} bytes" for data, mime in images)
        parts = [f"{MOCK_LABEL} I received {len(images)} image(s)"
                 + (f" ({shown})" if shown else "")
                 + f" and {len(user_text):,} characters of text."]
        guess = _BEST_GUESS.search(user_text)
        if guess:
            parts.append(f"The context's best guess is {guess.group(1).strip()}.")
        question = re.findall(r"Question: (.+)", user_text)
        if question:
            parts.append(f"The question was: {question[-1].strip()}")
        return " ".join(parts)

    # -- the chat API -------------------------------------------------------------------------

    @llm_chat_callback()
    def chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        text = self._record(messages, "chat")
        return ChatResponse(message=ChatMessage(role=MessageRole.ASSISTANT, content=text))

    @llm_chat_callback()
    async def achat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        text = self._record(messages, "achat")
        return ChatResponse(message=ChatMessage(role=MessageRole.ASSISTANT, content=text))

    @llm_chat_callback()
    def stream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponseGen:
        responses = _streamed(self._record(messages, "stream_chat"))

        def gen() -> Generator[ChatResponse, None, None]:
            yield from responses

        return gen()

    @llm_chat_callback()
    async def astream_chat(
        self, messages: Sequence[ChatMessage], **kwargs: Any
    ) -> ChatResponseAsyncGen:
        responses = _streamed(self._record(messages, "astream_chat"))

        async def gen() -> AsyncGenerator[ChatResponse, None]:
            for response in responses:
                yield response

        return gen()


def _streamed(text: str) -> list[ChatResponse]:
    """The chunks a streaming model sends for ``text``: each delta and the text so far."""
    responses, sent = [], ""
    for piece in _pieces(text):
        sent += piece
        responses.append(ChatResponse(message=ChatMessage(role=MessageRole.ASSISTANT,
                                                          content=sent), delta=piece))
    return responses


def _pieces(text: str) -> list[str]:
    """Word-sized chunks that join back to ``text``."""
    return re.findall(r"\S+\s*|\s+", text) or [""]


def scripted_tool_calling_llm(
    tool_name: str, tool_kwargs: dict[str, Any], *, final_prefix: str = MOCK_LABEL
) -> MockFunctionCallingLLM:
    """A ``FunctionAgent``-ready mock: first calls ``tool_name(**tool_kwargs)``, then answers.

    The answer quotes the last tool output, prefixed with ``final_prefix``, so a run
    shows what the tool returned and that no real model wrote it.
    """

    def respond(messages: Sequence[ChatMessage], **kwargs: Any) -> ChatMessage:
        tool_results = [m for m in messages if m.role == MessageRole.TOOL]
        if not tool_results:
            call = ToolCallBlock(tool_call_id="call-1", tool_name=tool_name,
                                 tool_kwargs=dict(tool_kwargs))
            return ChatMessage(role=MessageRole.ASSISTANT, blocks=[call])
        output = tool_results[-1].content or ""
        return ChatMessage(role=MessageRole.ASSISTANT,
                           content=f"{final_prefix} The {tool_name} tool returned:\n{output}")

    return MockFunctionCallingLLM(response_generator=respond, is_chat_model=True)
