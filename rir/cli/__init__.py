"""The ``rir`` command line.

Each command lives in its own module exposing ``register(subparsers)``; the
handler it sets with ``set_defaults(handler=...)`` returns an exit code.
Errors become one line on stderr and an exit code (see :mod:`rir.cli._error_lines`):
2 for bad arguments, input or configuration, 1 for engine and other failures, and
1 when some of the items a command was given failed (``--debug`` shows tracebacks).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from rir.cli._error_lines import (
    EXIT_BAD_INPUT,
    EXIT_CODES_HELP,
    EXIT_FAILURE,
    EXIT_OK,
    error_line,
    exit_code_for,
    one_line,
)
from rir.errors import RIRError

__all__ = ["EXIT_BAD_INPUT", "EXIT_FAILURE", "EXIT_OK", "build_parser", "main"]

EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE: what a shell reports for `yes | head`

# Command modules under rir.cli (rir.cli.cmd_<name>), in help order.
_COMMANDS = ("search", "index", "demo", "ask", "serve", "cache", "login", "eval", "doctor")


class _Parser(argparse.ArgumentParser):
    """Every parser of the CLI: exit codes in the epilog, argument errors as one line."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("epilog", EXIT_CODES_HELP)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        # The line starts like every other error line ("rir: error: "); the command is
        # named once, in the help to read (never "rir: error: rir: ...").
        self.exit(EXIT_BAD_INPUT, f"rir: error: {message} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="rir",
        description="Reverse image search for multimodal RAG: search the web or your own "
        "images for a picture, and hand what is found to a multimodal model.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}",
                        help="print the version and exit")
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logs")
    parser.add_argument("-v", "--verbose", action="store_true", help="show progress logs")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND",
                                       parser_class=_Parser)
    for name in _COMMANDS:
        importlib.import_module(f"rir.cli.cmd_{name}").register(subparsers)
    _record_flags(parser)
    return parser


def _record_flags(parser: argparse.ArgumentParser) -> None:
    """Give each command its option strings (``args.flags``), so hints name only real flags,
    and its parser (``args.command_parser``), so an error names the command it is about."""
    flags = frozenset(s for action in parser._actions for s in action.option_strings)
    parser.set_defaults(flags=flags, command_parser=parser)
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in dict.fromkeys(action.choices.values()):
                _record_flags(child)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("reverse-image-rag")
    except PackageNotFoundError:  # a source checkout that was never installed
        return "(not installed)"


def _closed_pipe() -> int:
    """The reader of stdout went away: point stdout at /dev/null so the interpreter's final
    flush cannot fail again, and exit as a process killed by SIGPIPE would (128 + 13)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # stdout is not a real file (captured by a test harness)
        pass
    return EXIT_BROKEN_PIPE


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args, extra = parser.parse_known_args(argv)
        if extra:  # reported by the command they were given to, not by 'rir'
            getattr(args, "command_parser", parser).error(
                f"unrecognized arguments: {' '.join(extra)}")
    except SystemExit as exc:  # --help, --version, or a bad argument (already printed)
        return exc.code if isinstance(exc.code, int) else EXIT_BAD_INPUT
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
    except BrokenPipeError:  # `rir ... | head` closed the pipe: stop quietly, as cat does
        return _closed_pipe()
    except KeyboardInterrupt:
        print("rir: interrupted", file=sys.stderr)
        return 130
    except RIRError as exc:
        if args.debug:
            raise
        print(error_line(exc, args.flags), file=sys.stderr)
        return exit_code_for(exc)
    except Exception as exc:  # the CLI's last line of defence: one line, exit 1
        if args.debug:
            raise
        print(f"rir: unexpected {type(exc).__name__}: {one_line(exc)} "
              "(rerun with --debug for the traceback)", file=sys.stderr)
        return EXIT_FAILURE
