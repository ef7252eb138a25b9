"""No secret in any log line the server writes.

A client may put a key where it does not belong (``GET /v1/search?api_key=...``) and
uvicorn's access log writes every request line verbatim; MCP's SDK, the framework and
our own modules log too. One filter,
:data:`~rir.engines.http.secrets.REDACTING_FILTER`, masks the server's API keys
(registered here), every secret an engine resolved, the values of credential-like
query parameters (``api_key``, ``key``, ``token``, ``access_token``, ``password``,
``secret``, ``sig``/``signature``, ``auth``, ... in any case) and of credential headers
(``Authorization``, ``X-API-Key``, ``Cookie``), tracebacks included.

It is attached where every record passes: to the handlers ``rir serve`` gives uvicorn
(:func:`uvicorn_log_config`) and to the root logger's handlers, and, for an app that
someone else serves, to the loggers of uvicorn, MCP, FastAPI, Starlette and this
library (:func:`protect_server_logs`).
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Iterable
from typing import Any

from rir.engines.http.secrets import REDACTING_FILTER, protect_logger, register_secret

__all__ = ["protect_server_logs", "redacting_filter", "uvicorn_log_config"]

# Loggers the server's records are created on (a filter only runs on the logger that
# creates a record, so the children that exist are covered one by one as well).
_SERVER_LOGGERS = ("uvicorn", "uvicorn.access", "uvicorn.error", "uvicorn.asgi", "fastapi",
                   "starlette", "sse_starlette", "mcp", "rir", "langchain_rir", "httpx")


def redacting_filter() -> logging.Filter:
    """The shared filter (a factory for ``logging.config.dictConfig``'s ``"()"``)."""
    return REDACTING_FILTER


def uvicorn_log_config(level: str = "info") -> dict[str, Any]:
    """uvicorn's own logging configuration with the redacting filter on each of its handlers."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["redact"] = {"()": f"{__name__}.redacting_filter"}
    for handler in config.get("handlers", {}).values():
        handler["filters"] = [*handler.get("filters", []), "redact"]
    for logger in config.get("loggers", {}).values():
        logger["level"] = level.upper()
    return config


def protect_server_logs(api_keys: Iterable[str] = ()) -> None:
    """Register the server's keys as secrets and filter every log record the server makes."""
    for key in api_keys:
        register_secret(key)
    names = set(_SERVER_LOGGERS)
    names |= {name for name in list(logging.root.manager.loggerDict)
              if name.split(".", 1)[0] in ("uvicorn", "mcp", "rir", "fastapi", "starlette")}
    protect_logger(*sorted(names))
    for handler in logging.getLogger().handlers:
        if REDACTING_FILTER not in handler.filters:
            handler.addFilter(REDACTING_FILTER)
