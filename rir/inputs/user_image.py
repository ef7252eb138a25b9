"""The image the user attached, as agent tools name it: one rule for every framework.

A model should never copy an image's base64 into tool arguments. The LangChain
tool and the LlamaIndex tool spec therefore let it leave the image argument
empty, or pass :data:`USER_IMAGE`, and read the most recent image the user
attached from the conversation themselves (the agent state, or the agent's
memory). This module holds what the two share: the handle, the test for it and
the message when the conversation holds no image.
"""

from __future__ import annotations

__all__ = ["USER_IMAGE", "no_user_image_message", "wants_user_image"]

#: The argument value that names the image the user attached to the conversation.
USER_IMAGE = "user_image"


def wants_user_image(argument: str | None) -> bool:
    """Whether a tool's image argument asks for the user's attached image (empty or the handle)."""
    wanted = (argument or "").strip()
    return not wanted or wanted.lower() == USER_IMAGE


def no_user_image_message(argument_name: str) -> str:
    """What a tool says when asked for the user's image and the conversation holds none."""
    return (f"No image to search: {argument_name} is empty and the conversation holds no image "
            f"from the user. Ask the user to attach an image, or pass {argument_name} as an "
            "http(s) URL of an image file.")
