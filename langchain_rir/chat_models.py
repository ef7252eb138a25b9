"""Resolving a chat model from a name such as ``"openai:gpt-4o"``."""

from __future__ import annotations

from typing import Any

from langchain_core.language_models import BaseChatModel

from rir.errors import ConfigurationError

__all__ = ["DEFAULT_MODEL", "resolve_chat_model"]

DEFAULT_MODEL = "openai:gpt-4o"


def resolve_chat_model(model: str | BaseChatModel, **kwargs: Any) -> BaseChatModel:
    """Return ``model`` if it is a chat model, else build it from ``"provider:name"``.

    ``fake:parrot`` and ``fake:best-guess`` are the offline fakes of
    :mod:`langchain_rir.testing` (``kwargs`` may set ``delay_s``). ``openai:...`` (or a
    bare name) needs ``langchain-openai`` (the ``openai`` extra); other providers go
    through ``langchain.chat_models.init_chat_model`` (the ``agents`` extra plus the
    provider's package, e.g. ``langchain-anthropic``).
    """
    if isinstance(model, BaseChatModel):
        return model
    if not isinstance(model, str) or not model.strip():
        raise ConfigurationError(f"model must be a chat model or a 'provider:name' string, "
                                 f"got {model!r}.")
    provider, sep, name = model.partition(":")
    if not sep:
        provider, name = "openai", model
    if provider == "fake":
        from langchain_rir.testing import fake_model

        return fake_model(model, **kwargs)
    if provider == "openai":
        try:
            from langchain_openai import ChatOpenAI
        except ImportError:
            raise ConfigurationError(
                f"Model '{model}' needs langchain-openai: pip install "
                "'reverse-image-rag[openai]' (or pass another model, e.g. 'fake:best-guess' "
                "to try things offline)."
            ) from None

        try:
            return ChatOpenAI(model=name, **kwargs)
        except Exception as exc:  # noqa: BLE001 - pydantic/openai raise several kinds here
            raise ConfigurationError(
                f"Cannot create the OpenAI chat model '{name}': {type(exc).__name__}. Set "
                "OPENAI_API_KEY (or pass api_key=...), or choose another model."
            ) from None
    try:
        from langchain.chat_models import init_chat_model
    except ImportError:
        raise ConfigurationError(
            f"Model '{model}' needs langchain's init_chat_model: pip install "
            "'reverse-image-rag[agents]' and the provider package (e.g. langchain-anthropic)."
        ) from None
    try:
        return init_chat_model(model, **kwargs)
    except (ImportError, ValueError) as exc:
        raise ConfigurationError(f"Cannot create chat model '{model}': {exc}") from None
