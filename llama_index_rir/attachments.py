"""Finding the image a user attached in a LlamaIndex conversation.

LlamaIndex agents (``FunctionAgent``, ``ReActAgent``, ``AgentWorkflow``) keep the
conversation in a memory stored on their workflow ``Context`` under ``"memory"``;
a user's image is an ``ImageBlock`` in a user ``ChatMessage``. The tool spec
reads it from there, so the model never writes the image into tool arguments.

An ``ImageBlock`` holds its image as bytes, a file path or a URL (``http(s)`` or
``data:``). :func:`image_from_block` returns what :func:`rir.aload_image` takes
for each, without fetching anything: a URL is fetched later through the same
SSRF guard as every other URL.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from llama_index.core.base.llms.types import ChatMessage, ImageBlock, MessageRole

from rir.errors import ConfigurationError

__all__ = ["alatest_user_image", "image_from_block", "latest_user_image"]

MEMORY_KEY = "memory"  # where LlamaIndex's agents keep their memory in the Context store


def image_from_block(block: ImageBlock) -> bytes | Path | str | None:
    """The image of one ``ImageBlock``: its bytes, its file path or its URL (``None`` if empty)."""
    if isinstance(block.image, io.IOBase):
        block.image.seek(0)
        return block.image.read()
    if block.image:
        # ImageBlock keeps inline images base64-encoded; resolving them reads no file or URL.
        return block.resolve_image(as_base64=False).read()
    if block.path:
        return Path(block.path)
    if block.url:
        return str(block.url)
    return None


def latest_user_image(messages: Sequence[ChatMessage]) -> bytes | Path | str | None:
    """The last image of the most recent user message that has one, or ``None``."""
    for message in reversed(list(messages)):
        if message.role != MessageRole.USER:
            continue
        for block in reversed(message.blocks):
            if isinstance(block, ImageBlock):
                image = image_from_block(block)
                if image is not None:
                    return image
    return None


async def alatest_user_image(ctx: Any) -> bytes | Path | str | None:
    """The user's latest image in the conversation of an agent run (``ctx`` is its Context).

    ``None`` when the conversation holds no image. A Context without a memory is
    not an agent's: that is a ConfigurationError, not "no image".
    """
    store = getattr(ctx, "store", None)
    memory = await store.get(MEMORY_KEY, default=None) if store is not None else None
    if memory is None or not callable(getattr(memory, "aget_all", None)):
        raise ConfigurationError(
            "reverse_image_search was given a workflow Context with no agent memory, so it "
            "cannot find the image the user attached: run it inside a LlamaIndex agent "
            "(FunctionAgent, ReActAgent, AgentWorkflow), or pass the image argument."
        )
    # All of it, not just what fits the model's token window: the image may be turns back.
    return latest_user_image(await memory.aget_all())
