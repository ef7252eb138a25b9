"""The ``rir`` command line.

Each command lives in its own module exposing ``register(subparsers)``; the
handler it sets with ``set_defaults(handler=...)`` returns an exit code.
Errors become one line on stderr and an exit code: 2 for bad input or
configuration, 1 for engine and other failures (``--debug`` shows tracebacks).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from rir.errors import (
    ConfigurationError,
    EngineError,
    ImageFetchError,
    InvalidImageError,
    RIRError,
    UnsafeURLError,
)

__all__ = ["EXIT_BAD_INPUT", "EXIT_FAILURE", "EXIT_OK", "build_parser", "main"]

EXIT_OK, EXIT_FAILURE, EXIT_BAD_INPUT = 0, 1, 2
_BAD_INPUT = (InvalidImageError, ImageFetchError, UnsafeURLError, ConfigurationError)

# Command modules under rir.cli, in help order.
_COMMANDS = ("search", "index", "demo", "ask", "cache", "login", "eval", "doctor")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rir",
        description="Reverse image search for multimodal RAG: search the web or your own "
        "images for a picture, and hand what is found to a multimodal model.",
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logs")
    parser.add_argument("-v", "--verbose", action="store_true", help="show progress logs")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in _COMMANDS:
        importlib.import_module(f"rir.cli.{name}").register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.debug else logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    if not getattr(args, "handler", None):
        parser.print_help(sys.stderr)
        return EXIT_BAD_INPUT
    try:
        return int(args.handler(args) or EXIT_OK)
    except KeyboardInterrupt:
        print("rir: interrupted", file=sys.stderr)
        return 130
    except RIRError as exc:
        if args.debug:
            raise
        code = EXIT_BAD_INPUT if isinstance(exc, _BAD_INPUT) else EXIT_FAILURE
        kind = "engine error" if isinstance(exc, EngineError) else "error"
        print(f"rir: {kind}: {_one_line(exc)}", file=sys.stderr)
        return code
    except Exception as exc:  # the CLI's last line of defence: one line, exit 1
        if args.debug:
            raise
        print(f"rir: unexpected {type(exc).__name__}: {_one_line(exc)} "
              "(rerun with --debug for the traceback)", file=sys.stderr)
        return EXIT_FAILURE


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__
