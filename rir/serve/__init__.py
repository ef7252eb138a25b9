"""``rir serve``: reverse image search as an MCP server and an HTTP API.

Needs the ``serve`` extra (``pip install 'reverse-image-rag[serve]'``: mcp, fastapi, uvicorn).

    >>> from rir.serve import ServeConfig, create_app, build_mcp, SearchService

Names are imported on first use, so ``rir.serve.config`` (what ``rir serve --help``
needs) loads without the server's dependencies.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["Asker", "SearchService", "ServeConfig", "api_key_from_env", "build_mcp", "create_app"]

_WHERE = {"create_app": "rir.serve.app", "ServeConfig": "rir.serve.config",
          "api_key_from_env": "rir.serve.config", "build_mcp": "rir.serve.mcp_tools",
          "Asker": "rir.serve.service", "SearchService": "rir.serve.service"}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'rir.serve' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
