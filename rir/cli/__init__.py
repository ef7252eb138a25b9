"""The ``rir`` command line.

Each command lives in its own module (``rir.cli.cmd_<name>``) exposing
``register(parser)``, which defines the command's arguments on the parser made for it;
the handler it sets with ``set_defaults(handler=...)`` returns an exit code and imports
what it needs when it runs. Only the command named on the command line is registered
(the others get their one-line help), so ``rir --version``, ``rir --help`` and
``rir <cmd> --help`` import the parsers and nothing heavy.
Errors become one line on stderr and an exit code (see :mod:`rir.cli._error_lines`):
2 for bad arguments, input or configuration, 1 for engine and other failures, and
1 when some of the items a command was given failed (``--debug`` shows tracebacks).
"""

from __future__ import annotations

import argparse
import importlib
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
)
from rir.errors import RIRError, one_line

__all__ = ["EXIT_BAD_INPUT", "EXIT_FAILURE", "EXIT_OK", "build_parser", "main"]

EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE: what a shell reports for `yes | head`

# Each command (module rir.cli.cmd_<name>) and its line in `rir --help`, in help order.
_COMMANDS = {
    "search": "reverse image search for IMAGE (a path, URL or data: URI)",
    "index": "build and search a local image index",
    "demo": "run the whole pipeline offline on a local index of sample photos",
    "ask": "answer QUESTION about IMAGE with reverse image search as context",
    "serve": "serve reverse image search to agents: MCP (stdio or HTTP) and a REST API",
    "cache": "show or clear the result cache",
    "login": "accept Google's consent page / sign in once for the google_lens engine",
    "eval": "evaluate: run a dataset, score results, compare runs",
    "doctor": "check which engines work here (browser, session, keys, live searches)",
}


class _Parser(argparse.ArgumentParser):
    """Every parser of the CLI: exit codes in the epilog, argument errors as one line."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("epilog", EXIT_CODES_HELP)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        # The line starts like every other error line ("rir: error: "); the command is
        # named once, in the help to read (never "rir: error: rir: ...").
        self.exit(EXIT_BAD_INPUT, f"rir: error: {message} (see '{self.prog} --help')\n")


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The ``rir`` parser: every command's, or, given ``argv``, only the one it names."""
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
    named = None if argv is None else _command_named(argv)
    for name, help_line in _COMMANDS.items():
        command = subparsers.add_parser(name, help=help_line)
        if argv is None or name == named:
            importlib.import_module(f"rir.cli.cmd_{name}").register(command)
    _record_flags(parser)
    return parser


def _command_named(argv: Sequence[str]) -> str | None:
    """The command ``argv`` runs: its first word that is not an option (the top-level
    options take no values)."""
    return next((word for word in argv if not word.startswith("-")), None)


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
    # rir.__version__, not importlib.metadata: importing that costs more than the whole
    # parser (a test checks the two agree).
    from rir import __version__

    return __version__


def _closed_pipe() -> int:
    """The reader of stdout went away: point stdout at /dev/null so the interpreter's final
    flush cannot fail again, and exit as a process killed by SIGPIPE would (128 + 13)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # stdout is not a real file (captured by a test harness)
        pass
    return EXIT_BROKEN_PIPE


def _one_blas_thread() -> None:
    """Have numpy's OpenBLAS start one thread, not one per core, unless the user set it.

    No command does matrix algebra that threads would speed up, and the threads OpenBLAS
    starts as numpy loads spin for a while: on two cores, a one-off ``rir index search``
    spent about 180 ms more CPU and 18 ms more wall time with them. Too late (and left
    alone) when numpy is already loaded, as when ``main`` is called from Python.
    """
    if "numpy" not in sys.modules:
        os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    _one_blas_thread()
    parser = build_parser(argv)
    try:
        args, extra = parser.parse_known_args(argv)
        if extra:  # reported by the command they were given to, not by 'rir'
            getattr(args, "command_parser", parser).error(
                f"unrecognized arguments: {' '.join(extra)}")
    except SystemExit as exc:  # --help, --version, or a bad argument (already printed)
        return exc.code if isinstance(exc.code, int) else EXIT_BAD_INPUT
    import logging

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
