"""Loading a framework adapter for the commands that call a chat model.

The core is framework-free; ``rir ask`` and ``rir demo``'s answer step call a
model through the LangChain adapter (``langchain_rir``), imported only when they
run. When it cannot be imported, the command says so in one line instead of a
traceback from deep inside the import.
"""

from __future__ import annotations

import importlib

from rir.errors import ConfigurationError

__all__ = ["require_langchain_adapter"]


def require_langchain_adapter(command: str) -> None:
    """Import ``langchain_rir`` now, or raise ConfigurationError naming ``command`` and the fix."""
    try:
        importlib.import_module("langchain_rir")
    except ImportError as exc:
        raise ConfigurationError(
            f"'rir {command}' calls a chat model through LangChain, but the LangChain adapter "
            f"cannot be imported ({exc}); reinstall with: pip install reverse-image-rag "
            "(it brings langchain-core and langchain-openai)."
        ) from None
