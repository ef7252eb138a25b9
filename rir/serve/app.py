"""The app factory: one ASGI app with the REST routes and MCP's streamable HTTP at ``/mcp``.

    >>> from rir.serve import ServeConfig, create_app
    >>> app = create_app(ServeConfig(index="photos.rir"))   # uvicorn.run(app, port=8000)

One :class:`~rir.serve.security.SecurityMiddleware` covers every route; every error,
including the framework's own (unknown route, unparsable body), leaves in the
``{error, detail, hint}`` shape of :mod:`rir.serve.error_replies`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.body_limit import RequestBodyLimitMiddleware
from starlette.middleware.cors import CORSMiddleware

from rir.errors import RIRError, one_line
from rir.serve.config import ServeConfig
from rir.serve.error_replies import ErrorReply, error_reply, validation_problems
from rir.serve.log_redaction import protect_server_logs
from rir.serve.mcp_tools import build_mcp
from rir.serve.rest import build_router
from rir.serve.security import SecurityMiddleware
from rir.serve.service import Asker, SearchService

__all__ = ["create_app"]


def _json(reply: ErrorReply) -> JSONResponse:
    return JSONResponse(reply.body(), status_code=reply.status, headers=reply.headers())


def _allowed_origins(config: ServeConfig) -> list[str]:
    own = [f"http://{host}" for host in config.allowed_hosts() if host != "*"]
    return [*own, *config.cors_origins]


def create_app(config: ServeConfig, *, asker: Asker | None = None,
               service: SearchService | None = None) -> FastAPI:
    """The HTTP server for ``config`` (refuses a non-loopback host without an API key)."""
    config.check_bind()
    service = service or SearchService(config, asker=asker)
    mcp = build_mcp(service, transport="http")
    mcp_routes = mcp.streamable_http_app().routes  # creates the session manager
    protect_server_logs(config.api_keys)  # after the SDK set its logging up

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with mcp.session_manager.run():
            try:
                yield
            finally:
                await service.aclose()

    from importlib.metadata import PackageNotFoundError, version

    try:
        release = version("reverse-image-rag")
    except PackageNotFoundError:
        release = "0"
    app = FastAPI(title="reverse-image-rag", version=release, lifespan=lifespan,
                  description="Reverse image search over HTTP; MCP (streamable HTTP) at /mcp.")
    app.state.service = service
    app.state.mcp = mcp
    app.include_router(build_router(service))
    app.router.routes.extend(mcp_routes)

    @app.exception_handler(RequestValidationError)
    async def on_validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        return _json(ErrorReply(422, "RequestValidationError",
                                f"Bad request parameters: {validation_problems(exc.errors())}.",
                                "Fix the request's parameters (see /openapi.json)."))

    @app.exception_handler(StarletteHTTPException)
    async def on_http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        hint = ("Send a JSON object, or a multipart/form-data upload with one 'file' part and "
                "at most the documented fields (see /openapi.json)." if exc.status_code == 400
                else "See /docs or /openapi.json for the routes and methods.")
        return _json(ErrorReply(exc.status_code, "HTTPError", one_line(Exception(exc.detail)),
                                hint))

    @app.exception_handler(RIRError)
    async def on_library_error(request: Request, exc: RIRError) -> JSONResponse:
        return _json(error_reply(exc))

    @app.exception_handler(Exception)
    async def on_error(request: Request, exc: Exception) -> JSONResponse:
        return _json(error_reply(exc))

    # Inner: a streamed body over the cap raises the framework's 413 into the handler above.
    app.add_middleware(RequestBodyLimitMiddleware, max_body_size=config.max_body_bytes)
    app.add_middleware(SecurityMiddleware, api_keys=config.api_keys,
                       allowed_hosts=config.allowed_hosts(),
                       allowed_origins=_allowed_origins(config),
                       max_body_bytes=config.max_body_bytes,
                       rate_limit_per_minute=config.rate_limit_per_minute)
    if config.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=list(config.cors_origins),
                           allow_methods=["GET", "POST", "DELETE", "OPTIONS"],
                           allow_headers=["authorization", "x-api-key", "content-type",
                                          "mcp-session-id", "mcp-protocol-version"],
                           expose_headers=["mcp-session-id", "retry-after"])
    return app


