"""``rir serve``: the MCP server (``--stdio``) and the HTTP API with MCP at ``/mcp``."""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path
from typing import Any

from rir.cli._adapters import require_langchain_adapter
from rir.cli._common import non_negative_int, positive_int
from rir.errors import ConfigurationError


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be more than 0, got {value:g}")
    return value


def register(parser: argparse.ArgumentParser) -> None:
    from rir.serve.client_config import CLIENTS  # no server deps
    from rir.serve.config import DEFAULT_MAX_BYTES, DEFAULT_MAX_PIXELS

    parser.description = (
        "Serve reverse image search as an MCP server and an HTTP API. With --stdio "
        "it speaks MCP on stdin/stdout (Claude Desktop, Cursor; logs go to stderr). Without, it "
        "listens on HTTP: REST under /v1, MCP streamable HTTP at /mcp, OpenAPI at "
        "/openapi.json. The API key comes from $RIR_API_KEY only (never a flag); a non-loopback "
        "--host requires it. Engine keys (SERPAPI_API_KEY, ...) are read from the server's "
        "environment and never shown to clients."
    )
    parser.add_argument("--stdio", action="store_true",
                        help="speak MCP over stdin/stdout instead of listening on HTTP")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default 127.0.0.1; anything else needs "
                        "$RIR_API_KEY)")
    parser.add_argument("--port", type=positive_int, default=8000, help="port (default 8000)")
    parser.add_argument("--engine", "-e", default=None,
                        help="engine used when a request names none (default: local with "
                        "--index, else auto)")
    parser.add_argument("--index", type=Path, default=None, metavar="PATH",
                        help="a local index file: adds the search_local_index tool and the "
                        "local engine")
    parser.add_argument("--allow-write", action="store_true",
                        help="let clients add images to --index (adds the add_to_index tool)")
    parser.add_argument("--allow-dir", action="append", type=Path, default=[], metavar="DIR",
                        help="with --stdio: tools may read local images under DIR (repeatable);"
                        " HTTP never reads local files")
    parser.add_argument("--model", "-m", default=None, metavar="PROVIDER:NAME",
                        help="chat model for ask_about_image and POST /v1/ask (e.g. "
                        "openai:gpt-4o); without it those are not offered")
    parser.add_argument("--cors-origin", action="append", default=[], metavar="ORIGIN",
                        help="allow browser requests from ORIGIN (repeatable; default: none)")
    parser.add_argument("--max-bytes", type=positive_int, default=DEFAULT_MAX_BYTES,
                        metavar="N", help=f"largest image accepted (default {DEFAULT_MAX_BYTES:,})")
    parser.add_argument("--max-pixels", type=positive_int, default=DEFAULT_MAX_PIXELS,
                        metavar="N", help="most pixels accepted, a decompression-bomb guard "
                        f"(default {DEFAULT_MAX_PIXELS:,})")
    parser.add_argument("--fetch-timeout", type=_positive_float, default=20.0, metavar="S",
                        help="seconds to download an image URL (default 20)")
    parser.add_argument("--search-timeout", type=_positive_float, default=120.0, metavar="S",
                        help="seconds a search may take before a 504 (default 120)")
    parser.add_argument("--concurrency", type=positive_int, default=None, metavar="N",
                        help="searches at once per engine (default: sized to the engine: 8 "
                        "local, 2 google_lens, 4 others)")
    parser.add_argument("--max-queue", type=non_negative_int, default=256, metavar="N",
                        help="searches that may wait for a slot before 503 + Retry-After "
                        "(default 256)")
    parser.add_argument("--rate-limit", type=non_negative_int, default=600, metavar="N",
                        help="requests per minute per API key (or client address); 0: off "
                        "(default 600)")
    parser.add_argument("--no-cache", action="store_true", help="do not read or write the "
                        "result cache")
    parser.add_argument("--print-config", choices=CLIENTS, default=None, metavar="CLIENT",
                        help="print a working configuration for CLIENT (" + ", ".join(CLIENTS)
                        + ") that starts this installation's rir over stdio with the other "
                        "options given here, then exit; no key is ever written into it")
    parser.set_defaults(handler=run, serve_parser=parser)


def _asker(model: str | None) -> Any:
    if model is None:
        return None
    require_langchain_adapter("serve --model")
    serving = importlib.import_module("langchain_rir.serving")
    return serving.LangChainAsker(model)


# Options of an HTTP server only: a stdio client configuration leaves them out.
_HTTP_ONLY = {"host", "port", "cors_origin", "print_config", "stdio"}


def _stdio_arguments(args: argparse.Namespace) -> list[str]:
    """``serve --stdio`` plus every option given that differs from its default, with
    paths made absolute (a client starts the server from a directory of its own)."""
    parser: argparse.ArgumentParser = args.serve_parser
    argv = ["serve", "--stdio"]
    for action in parser._actions:
        if not action.option_strings or action.dest in _HTTP_ONLY | {"help"}:
            continue
        value = getattr(args, action.dest, action.default)
        if value == action.default:
            continue
        flag = max(action.option_strings, key=len)
        if isinstance(value, bool):
            argv.append(flag)
            continue
        for item in value if isinstance(value, list) else [value]:
            argv += [flag, str(Path(item).expanduser().resolve()) if isinstance(item, Path)
                     else str(item)]
    return argv


def print_config(args: argparse.Namespace) -> int:
    from rir.serve.client_config import client_config

    if args.index is not None and not args.index.expanduser().is_file():
        raise ConfigurationError(f"No index at {args.index}; build one with 'rir index add' "
                                 "or pass another --index.")
    config = client_config(args.print_config, _stdio_arguments(args))
    print(config.text)
    print(config.note, file=sys.stderr)
    return 0


def run(args: argparse.Namespace) -> int:
    if args.print_config:
        return print_config(args)
    try:
        import uvicorn

        from rir.serve import SearchService, ServeConfig, api_key_from_env, build_mcp, create_app
        from rir.serve.log_redaction import protect_server_logs, uvicorn_log_config
    except ImportError as exc:
        raise ConfigurationError(
            f"'rir serve' needs the serve extra ({exc}); install it with: "
            "pip install 'reverse-image-rag[serve]'."
        ) from None
    if args.allow_dir and not args.stdio:
        raise ConfigurationError("--allow-dir lets an MCP client on this machine read local "
                                 "images, so it works only with --stdio; over HTTP send URLs, "
                                 "data: URIs or uploads.")
    config = ServeConfig(
        host=args.host, port=args.port, engine=args.engine, index=args.index,
        allow_write=args.allow_write, allow_dirs=tuple(d.resolve() for d in args.allow_dir),
        model=args.model, api_key=api_key_from_env(), cors_origins=tuple(args.cors_origin),
        max_bytes=args.max_bytes, max_pixels=args.max_pixels,
        fetch_timeout_s=args.fetch_timeout, search_timeout_s=args.search_timeout,
        concurrency=args.concurrency, max_queue=args.max_queue,
        rate_limit_per_minute=args.rate_limit, cache=not args.no_cache,
    )
    if args.index is not None and not args.index.is_file():
        raise ConfigurationError(f"No index at {args.index}; build one with 'rir index add' "
                                 "or pass another --index.")
    asker = _asker(args.model)
    if args.stdio:
        import anyio

        service = SearchService(config, asker=asker)
        server = build_mcp(service, transport="stdio")
        protect_server_logs(config.api_keys)

        async def serve_stdio() -> None:
            try:
                await server.run_stdio_async()
            finally:
                await service.aclose()

        anyio.run(serve_stdio)
        return 0
    config.check_bind()
    uvicorn.run(create_app(config, asker=asker), host=config.host, port=config.port,
                log_level="info", log_config=uvicorn_log_config("info"), server_header=False)
    return 0
