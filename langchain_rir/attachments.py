"""Finding the image a user sent in a LangChain conversation.

Chat messages carry images in several dialects; :func:`image_from_block` reads
them all and returns something :func:`rir.load_image` accepts (a ``data:`` URI or
an http(s) URL):

* LangChain standard blocks: ``{"type": "image", "base64": ..., "mime_type": ...}``,
  ``{"type": "image", "url": ...}`` and the older
  ``{"type": "image", "source_type": "base64" | "url", "data"/"url": ...}``;
* OpenAI: ``{"type": "image_url", "image_url": {"url": ...}}``;
* Anthropic: ``{"type": "image", "source": {"type": "base64", "media_type", "data"}}``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from langchain_core.messages import BaseMessage

__all__ = ["image_from_block", "latest_image_in_messages"]

_USER_ROLES = ("human", "user")


def _data_uri(data: Any, mime_type: Any) -> str | None:
    if not isinstance(data, str) or not data:
        return None
    if data.startswith("data:"):
        return data
    return f"data:{mime_type if isinstance(mime_type, str) and mime_type else 'image/jpeg'};" \
           f"base64,{data}"


def image_from_block(block: Any) -> str | None:
    """The image in one content block as a data URI or URL, or ``None``."""
    if not isinstance(block, Mapping):
        return None
    kind = block.get("type")
    if kind == "image_url":
        inner = block.get("image_url")
        url = inner.get("url") if isinstance(inner, Mapping) else inner
        return url if isinstance(url, str) and url else None
    if kind != "image":
        return None
    if block.get("base64"):
        return _data_uri(block["base64"], block.get("mime_type"))
    source = block.get("source")
    if isinstance(source, Mapping):  # Anthropic
        if source.get("type") == "base64":
            return _data_uri(source.get("data"), source.get("media_type"))
        if source.get("type") == "url" and isinstance(source.get("url"), str):
            return source["url"]
    if block.get("source_type") == "base64":
        return _data_uri(block.get("data"), block.get("mime_type"))
    url = block.get("url")
    return url if isinstance(url, str) and url else None


def _role_and_content(message: Any) -> tuple[str, Any]:
    if isinstance(message, BaseMessage):
        return message.type, message.content
    if isinstance(message, Mapping):
        return str(message.get("role") or message.get("type") or ""), message.get("content")
    return "", None


def latest_image_in_messages(messages: Sequence[Any]) -> str | None:
    """The last image in the most recent user message that has one, or ``None``."""
    for message in reversed(list(messages)):
        role, content = _role_and_content(message)
        if role not in _USER_ROLES or not isinstance(content, list):
            continue
        for block in reversed(content):
            image = image_from_block(block)
            if image is not None:
                return image
    return None
