"""``rir serve``: reverse image search as an MCP server and an HTTP API.

Needs the ``serve`` extra (``pip install 'reverse-image-rag[serve]'``: mcp, fastapi, uvicorn).

    >>> from rir.serve import ServeConfig, create_app, build_mcp, SearchService

Names are imported on first use, so ``rir.serve.config`` (what ``rir serve --help``
needs) loads without the server's dependencies.
"""

from typing import TYPE_CHECKING

from rir import _moved

if TYPE_CHECKING:
    from rir.serve.app import create_app
    from rir.serve.config import ServeConfig, api_key_from_env
    from rir.serve.mcp_tools import build_mcp
    from rir.serve.service import Asker, SearchService

__all__ = ["Asker", "SearchService", "ServeConfig", "api_key_from_env", "build_mcp", "create_app"]

__getattr__, __dir__ = _moved.lazy_exports(__name__, {
    "rir.serve.app": ["create_app"],
    "rir.serve.config": ["ServeConfig", "api_key_from_env"],
    "rir.serve.mcp_tools": ["build_mcp"],
    "rir.serve.service": ["Asker", "SearchService"],
})
