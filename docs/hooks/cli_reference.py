"""mkdocs hook: the command-line reference, generated from ``rir.cli.build_parser()``.

``docs/cli.md`` holds the marker ``<!-- rir-cli-reference -->``; at build time it is
replaced by one section per command and subcommand (its description and its exact
``--help``), walked from the parser the ``rir`` command itself uses, so the page
cannot drift from the code.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

MARKER = "<!-- rir-cli-reference -->"
HELP_WIDTH = "100"


def on_page_markdown(markdown: str, page: Any, **kwargs: Any) -> str:
    if MARKER not in markdown:
        return markdown
    return markdown.replace(MARKER, cli_reference_markdown())


def cli_reference_markdown() -> str:
    from rir.cli import build_parser

    with _help_width(HELP_WIDTH):
        parser = build_parser()
        return "\n".join(_sections(parser, level=2))


def iter_commands(parser: argparse.ArgumentParser) -> Iterator[argparse.ArgumentParser]:
    """Every subcommand parser under ``parser``, depth first, in help order."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in dict.fromkeys(action.choices.values()):  # aliases share a parser
                yield child
                yield from iter_commands(child)


def _sections(parser: argparse.ArgumentParser, level: int) -> Iterator[str]:
    for child in iter_commands(parser):
        depth = min(level + child.prog.count(" ") - 1, 6)
        yield f"{'#' * depth} `{child.prog}`\n"
        if child.description:
            yield f"{child.description}\n"
        yield "```text"
        yield child.format_help().rstrip()
        yield "```\n"


@contextmanager
def _help_width(columns: str) -> Iterator[None]:
    """argparse wraps help to the terminal's width: fix it, so the page is the same anywhere."""
    before = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = columns
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("COLUMNS", None)
        else:
            os.environ["COLUMNS"] = before
