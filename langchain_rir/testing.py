"""Fake LangChain chat models, for trying and testing everything offline: the fake
multimodal chat model (:class:`FakeMultimodalChatModel`, by name ``fake:parrot`` or
``fake:best-guess`` wherever a model name is accepted: :func:`langchain_rir.create_rir_chain`,
:func:`langchain_rir.ask`, ``rir ask/demo/serve --model``, ``rir eval run --model``) and
:class:`ScriptedToolCallingModel` for agents (the LlamaIndex twins are in
:mod:`llama_index_rir.testing`).

    >>> from langchain_rir import create_rir_chain
    >>> chain = create_rir_chain("fake:best-guess", engine="local")  # doctest: +SKIP

They are **not** models: they never look at images and know nothing. They let the
chain, the tool, ``rir eval run`` (datasets, engine, cache, chain, writer, resume,
scoring) and the docs' examples run without a network or an API key:

``fake:parrot``
    answers with the text of the last user message it received (the question and
    any retrieved context), so a metric finds whatever the retrieval put there.
``fake:best-guess``
    answers with the ``Best guess from the results:`` line of the context, else
    the first result's title, else ``I don't know.`` (what a model that trusts the
    retrieval would say). Without retrieval (``--context none``) it does not know.

Option ``delay_s`` (``--model-option delay_s=0.2``) makes each answer take that
long, to watch the progress bar or interrupt a run. Token counts are words
(plus 85 per image), reported through ``usage_metadata`` like real models do.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Iterator, Sequence
from typing import Any, Literal

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import Field

from rir.errors import ConfigurationError

__all__ = ["FAKE_MODELS", "EvalFakeChatModel", "FakeMultimodalChatModel",
           "ScriptedToolCallingModel", "fake_model"]

FAKE_MODELS = ("fake:parrot", "fake:best-guess")
_BEST_GUESS = re.compile(r"Best guess from the results:\s*(.+)")
_FIRST_RESULT = re.compile(r"^\[1\]\s*(.+?)(?:\s+\|\s+site:.*)?$", re.MULTILINE)
_IMAGE_TOKENS = 85


def _text_parts(message: BaseMessage) -> tuple[list[str], int]:
    if isinstance(message.content, str):
        return [message.content], 0
    texts, images = [], 0
    for block in message.content:
        if isinstance(block, str):
            texts.append(block)
        elif isinstance(block, dict) and block.get("type") == "text":
            texts.append(str(block.get("text", "")))
        elif isinstance(block, dict):
            images += 1
    return texts, images


class FakeMultimodalChatModel(BaseChatModel):
    """A deterministic stand-in for a multimodal chat model (see the module docstring).

    It accepts the standard image blocks a real model gets (and counts them as input
    tokens) but answers from the text alone: ``behaviour="parrot"`` repeats the last
    user message, ``"best-guess"`` answers with the context's best guess.
    """

    behaviour: Literal["parrot", "best-guess"] = "parrot"
    delay_s: float = 0.0

    @property
    def _llm_type(self) -> str:
        return f"rir-fake-{self.behaviour}"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"behaviour": self.behaviour}

    def _answer(self, messages: list[BaseMessage]) -> AIMessage:
        words_in, images = 0, 0
        last_user: list[str] = []
        for message in messages:
            texts, count = _text_parts(message)
            images += count
            words_in += sum(len(t.split()) for t in texts)
            if isinstance(message, HumanMessage):
                last_user = texts
        prompt = "\n".join(last_user)
        if self.behaviour == "parrot":
            answer = prompt
        else:
            guess = _BEST_GUESS.search(prompt) or _FIRST_RESULT.search(prompt)
            answer = guess.group(1).strip() if guess else "I don't know."
        tokens_in = words_in + _IMAGE_TOKENS * images
        tokens_out = len(answer.split())
        return AIMessage(
            content=answer,
            usage_metadata={"input_tokens": tokens_in, "output_tokens": tokens_out,
                            "total_tokens": tokens_in + tokens_out},
            response_metadata={"model_name": f"fake:{self.behaviour}"},
        )

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: Any = None, **kwargs: Any) -> ChatResult:
        if self.delay_s:
            time.sleep(self.delay_s)
        return ChatResult(generations=[ChatGeneration(message=self._answer(messages))])

    async def _agenerate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                         run_manager: Any = None, **kwargs: Any) -> ChatResult:
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        return ChatResult(generations=[ChatGeneration(message=self._answer(messages))])


def fake_model(name: str, **options: Any) -> FakeMultimodalChatModel:
    """Build ``fake:parrot`` or ``fake:best-guess``; ``options`` may set ``delay_s``."""
    if name not in FAKE_MODELS:
        raise ConfigurationError(f"Unknown fake model {name!r}; the fakes are "
                                 f"{', '.join(FAKE_MODELS)} (offline plumbing tests only).")
    unknown = sorted(set(options) - {"delay_s"})
    if unknown:
        raise ConfigurationError(f"Fake models accept only the option delay_s, got "
                                 f"{', '.join(unknown)}.")
    delay = options.get("delay_s", 0.0)
    if isinstance(delay, bool) or not isinstance(delay, (int, float)) or delay < 0:
        raise ConfigurationError(f"delay_s must be a number of seconds >= 0, got {delay!r}.")
    return FakeMultimodalChatModel(behaviour=name.split(":", 1)[1], delay_s=float(delay))


EvalFakeChatModel = FakeMultimodalChatModel  # its first name, kept for existing imports


class ScriptedToolCallingModel(BaseChatModel):
    """For agent tests: replays ``script`` (tool-call messages first, then an answer), one
    message per turn, and records in ``seen`` the messages each turn received."""

    script: list[AIMessage]
    seen: list[list[BaseMessage]] = Field(default_factory=list)

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> ScriptedToolCallingModel:
        return self

    def _generate(self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None,
                  **kwargs: Any) -> ChatResult:
        self.seen.append(list(messages))
        return ChatResult(generations=[ChatGeneration(message=self.script[len(self.seen) - 1])])

    def _stream(self, *args: Any, **kwargs: Any) -> Iterator[Any]:
        raise NotImplementedError

    @property
    def _llm_type(self) -> str:
        return "scripted-tool-calling"
