"""Shared pieces of the CLI commands: option parsing and result printing."""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from platformdirs import user_data_dir
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from rir.errors import ConfigurationError
from rir.models import SearchResult

__all__ = [
    "add_index_argument",
    "default_index_path",
    "escape",
    "parse_engine_options",
    "print_result",
    "result_json",
    "stdout",
]

stdout = Console(highlight=False, soft_wrap=False)


def default_index_path() -> Path:
    """``$RIR_INDEX``, else ``index.rir`` in the user data dir."""
    env = os.environ.get("RIR_INDEX")
    return Path(env).expanduser() if env else Path(user_data_dir("reverse-image-rag")) / "index.rir"


def add_index_argument(parser: argparse.ArgumentParser, *, required: bool = False) -> None:
    parser.add_argument(
        "--index", type=Path, default=None, required=required, metavar="PATH",
        help="the local index file (default: $RIR_INDEX, else index.rir in the user data dir)",
    )


def parse_engine_options(pairs: Sequence[str] | None) -> dict[str, Any]:
    """``["hl=en", "timeout_s=30", "headless=false"]`` -> typed dict (JSON values when valid)."""
    options: dict[str, Any] = {}
    for pair in pairs or ():
        key, sep, raw = pair.partition("=")
        if not sep or not key.strip():
            raise ConfigurationError(f"Engine option {pair!r} is not KEY=VALUE (e.g. -o hl=en).")
        value: Any = raw
        lowered = raw.strip().lower()
        if lowered in ("true", "false"):
            value = lowered == "true"
        else:
            try:
                value = json.loads(raw)
            except json.JSONDecodeError:
                value = raw
        options[key.strip()] = value
    return options


def result_json(result: SearchResult) -> str:
    """The result as JSON without the raw engine payloads and screenshot bytes."""
    data = result.model_dump(mode="json", exclude={"screenshot": True,
                                                   "hits": {"__all__": {"raw"}}})
    data["has_screenshot"] = result.screenshot is not None
    return json.dumps(data, indent=2, ensure_ascii=False)


def print_result(result: SearchResult, *, title: str | None = None) -> None:
    """A table of hits plus the best guess, for people."""
    table = Table(title=title, show_lines=False, expand=False)
    table.add_column("#", justify="right", style="bold")
    table.add_column("score", justify="right")
    table.add_column("match")
    table.add_column("title", overflow="fold", max_width=50)
    table.add_column("site", overflow="fold", max_width=24)
    table.add_column("url", overflow="fold", max_width=50)
    for hit in result.hits:
        score = f"{hit.score:.2f}" if hit.score is not None else ""
        table.add_row(str(hit.position), score, hit.match_type, escape(hit.title or "(untitled)"),
                      escape(hit.source or ""), escape(hit.url or ""))
    if result.hits:
        stdout.print(table)
    else:
        stdout.print("[yellow]No matches.[/yellow]")
    if result.best_guess:
        stdout.print(f"[bold]Best guess:[/bold] {escape(result.best_guess)}")
    for failure in result.failures:
        stdout.print(f"[dim]skipped {escape(failure.engine)}: {failure.error_type}: "
                     f"{escape(failure.message)}[/dim]")
    cached = " (from cache)" if result.from_cache else ""
    stdout.print(f"[dim]{len(result.hits)} hits from {result.engine} in "
                 f"{result.elapsed_s:.2f}s{cached}[/dim]")
