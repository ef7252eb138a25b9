"""Translate a framework-neutral :class:`rir.prompting.spec.PromptSpec` into LlamaIndex messages.

Each :class:`~rir.prompting.spec.ImagePart` becomes an ``ImageBlock`` holding the bytes
(as base64) and the MIME type, and each :class:`~rir.prompting.spec.TextPart` a
``TextBlock``, in order, so the query image is always sent inline, never as a URL
the provider must fetch, and the words match what the LangChain side sends
(``langchain_rir.messages`` translates the same spec).
"""

from __future__ import annotations

from llama_index.core.base.llms.types import (
    ChatMessage,
    ContentBlock,
    ImageBlock,
    MessageRole,
    TextBlock,
)

from rir.prompting.spec import ImagePart, PromptSpec

__all__ = ["to_chat_messages", "to_content_blocks"]


def to_content_blocks(spec: PromptSpec) -> list[ContentBlock]:
    """The user message blocks: one ``ImageBlock`` or ``TextBlock`` per prompt part."""
    blocks: list[ContentBlock] = []
    for part in spec.parts:
        if isinstance(part, ImagePart):
            # Base64 rather than raw bytes: ImageBlock sniffs raw bytes for base64 and
            # would mis-decode the rare binary that happens to look like it.
            blocks.append(ImageBlock(image=part.base64.encode("ascii"),
                                     image_mimetype=part.mime_type))
        else:
            blocks.append(TextBlock(text=part.text))
    return blocks


def to_chat_messages(
    spec: PromptSpec, *, system_role: MessageRole = MessageRole.SYSTEM
) -> list[ChatMessage]:
    """``[system message, user message with the image and text blocks]``.

    ``system_role``: pass ``llm.metadata.system_role`` for models that take the
    instructions in a user message (OpenAI's o1 family).
    """
    return [
        ChatMessage(role=system_role, blocks=[TextBlock(text=spec.system)]),
        ChatMessage(role=MessageRole.USER, blocks=to_content_blocks(spec)),
    ]
