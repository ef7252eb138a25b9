"""Translate a framework-neutral :class:`rir.prompting.spec.PromptSpec` into LangChain messages.

Images become LangChain's standard base64 image blocks
(``{"type": "image", "base64": ..., "mime_type": ...}``), which every chat model
integration that accepts images converts to its provider's format, so the query
image is always sent inline, never as a URL the provider must fetch.
"""

from __future__ import annotations

from typing import Any

from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage

from rir.prompting.spec import ImagePart, PromptSpec

__all__ = ["to_content_blocks", "to_langchain_messages"]


def to_content_blocks(spec: PromptSpec) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    for part in spec.parts:
        if isinstance(part, ImagePart):
            blocks.append({"type": "image", "base64": part.base64, "mime_type": part.mime_type})
        else:
            blocks.append({"type": "text", "text": part.text})
    return blocks


def to_langchain_messages(spec: PromptSpec) -> list[BaseMessage]:
    """``[SystemMessage(spec.system), HumanMessage(content=[image, text, ...])]``."""
    return [SystemMessage(content=spec.system), HumanMessage(content=to_content_blocks(spec))]
