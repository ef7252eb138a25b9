"""The chat model behind ``rir serve --model``: :class:`rir.serve.Asker` on a LangChain model.

The server searches (its one search path) and hands this the query image and the result;
the prompt is :func:`rir.prompting.build.build_prompt`'s, translated to LangChain messages, so the
words match ``rir ask`` and the chains. Provider errors become ``EngineError`` without
echoing credentials.
"""

from __future__ import annotations

import os
from typing import Any

from langchain_core.language_models import BaseChatModel

from langchain_rir.chat_models import resolve_chat_model
from langchain_rir.messages import to_langchain_messages
from rir.errors import EngineError, RIRError
from rir.inputs.images import QueryImage
from rir.prompting.build import build_prompt
from rir.results.models import SearchResult

__all__ = ["LangChainAsker"]


class LangChainAsker:
    """Answers questions about a searched image with ``model`` (``provider:name`` or a model)."""

    def __init__(self, model: str | BaseChatModel, *, max_hits: int = 10) -> None:
        self.llm = resolve_chat_model(model)  # fail at start-up, not at the first question
        self.name = model if isinstance(model, str) else type(model).__name__
        self.max_hits = max_hits

    async def aask(self, image: QueryImage, question: str, result: SearchResult) -> str:
        spec = build_prompt(question, image=image, result=result, mode="text",
                            max_hits=self.max_hits)
        try:
            reply = await self.llm.ainvoke(to_langchain_messages(spec))
        except RIRError:
            raise
        except Exception as exc:  # noqa: BLE001 - provider SDKs raise their own error types
            raise EngineError(f"The model {self.name} failed: {type(exc).__name__}: "
                              f"{_masked(str(exc))}", engine=self.name) from None
        return _text(reply.content)


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    return "".join(part.get("text", "") if isinstance(part, dict) else str(part)
                   for part in content)


def _masked(text: str) -> str:
    """Provider errors can echo the API key: mask every key-like environment value."""
    for name, value in os.environ.items():
        if value and len(value) >= 8 and name.endswith(("_API_KEY", "_TOKEN", "_SECRET")):
            text = text.replace(value, "***")
    return text
