"""Shared pieces of the CLI commands: option parsing, result printing and diagnostics.

Results go to stdout; everything else (skipped files, per-image errors, progress)
goes to stderr, so ``rir ... --json | jq`` sees only results. Neither console wraps
plain lines: a piped stdout is 80 columns to rich, and a wrapped path or URL
cannot be copied back.

Importing this module loads neither rich nor pydantic (``rir --help`` imports it to
define the parsers): the consoles are made, and rich imported, on first use.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rir.errors import ConfigurationError, one_line

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

    from rir.inputs.policy import InputPolicy
    from rir.results.models import SearchResult
    from rir.results.region_parts import RegionsResult

__all__ = [
    "add_image_limit_arguments",
    "add_index_argument",
    "error_json",
    "escape",
    "index_path",
    "middle_truncate",
    "non_negative_int",
    "parse_engine_options",
    "plural",
    "policy_from_args",
    "positive_int",
    "print_regions_result",
    "print_result",
    "regions_json",
    "result_json",
    "stderr",
    "stdout",
    "url_cell",
    "url_width",
    "warn",
]


class _Console:
    """A rich ``Console`` made on first use (attribute access forwards to it), that leaves a
    closed pipe to :func:`rir.cli.main` (rich would exit with status 1 there)."""

    def __init__(self, **options: Any) -> None:
        self._options = options
        self._console: Console | None = None

    def __getattr__(self, name: str) -> Any:
        if self._console is None:
            from rich.console import Console

            class PipeConsole(Console):
                def on_broken_pipe(self) -> None:
                    raise BrokenPipeError

            self._console = PipeConsole(highlight=False, soft_wrap=True, **self._options)
        return getattr(self._console, name)


stdout: Console = _Console()  # type: ignore[assignment]
stderr: Console = _Console(stderr=True)  # type: ignore[assignment]


def escape(text: str) -> str:
    """``text`` with rich markup characters escaped (rich.markup.escape, imported on use)."""
    from rich.markup import escape as rich_escape

    return rich_escape(text)


_URL_WIDTH = 60


def warn(message: str) -> None:
    """One diagnostic line on stderr (plain text: ``message`` is not rich markup)."""
    stderr.print(message, markup=False)


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """``plural(1, "image")`` -> "1 image", ``plural(2, "image")`` -> "2 images"."""
    word = singular if count == 1 else (plural_form or singular + "s")
    return f"{count:,} {word}"


def _whole_number(text: str, minimum: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < minimum:
        raise argparse.ArgumentTypeError(f"must be {minimum} or more, got {value}")
    return value


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1."""
    return _whole_number(text, 1)


def non_negative_int(text: str) -> int:
    """argparse type: an integer >= 0."""
    return _whole_number(text, 0)


def add_index_argument(parser: argparse.ArgumentParser, *, required: bool = False,
                       locations: bool = False) -> None:
    """``--index``; with ``locations`` it may also name a Qdrant collection (the ``rir index``
    commands: see rir.engines.local.targets), so it stays a string."""
    if locations:
        parser.add_argument(
            "--index", default=None, required=required, metavar="WHERE",
            help="the local index: a file (default: $RIR_INDEX, else index.rir in the user "
            "data dir), qdrant://HOST:PORT/COLLECTION (API key from $QDRANT_API_KEY) or "
            "qdrant+local:FOLDER/COLLECTION")
        return
    parser.add_argument(
        "--index", type=Path, default=None, required=required, metavar="PATH",
        help="the local index file (default: $RIR_INDEX, else index.rir in the user data dir)",
    )


def add_image_limit_arguments(parser: argparse.ArgumentParser) -> None:
    """``--max-bytes`` / ``--max-pixels``: the image loader's limits, which its errors name."""
    from rir.inputs.policy import DEFAULT_MAX_BYTES, DEFAULT_MAX_PIXELS

    parser.add_argument("--max-bytes", type=positive_int, default=DEFAULT_MAX_BYTES, metavar="N",
                        help="refuse query images larger than N bytes "
                        f"(default {DEFAULT_MAX_BYTES:,})")
    parser.add_argument("--max-pixels", type=positive_int, default=DEFAULT_MAX_PIXELS,
                        metavar="N", help="refuse query images with more than N pixels, a guard "
                        f"against decompression bombs (default {DEFAULT_MAX_PIXELS:,})")


def policy_from_args(args: argparse.Namespace) -> InputPolicy:
    """What a command accepts as an image: the local files you name (you typed them), and
    the limits and private-URL rule its flags set (``--max-bytes``, ``--max-pixels``,
    ``--allow-private-urls``, where the command has them)."""
    from rir.inputs.policy import InputPolicy

    return InputPolicy().updated({
        "allow_private_urls": getattr(args, "allow_private_urls", None),
        "max_bytes": getattr(args, "max_bytes", None),
        "max_pixels": getattr(args, "max_pixels", None),
    })


def index_path(given: Path | None) -> Path:
    """The index file a command works on: ``--index``, else the default index."""
    from rir.engines.local.location import default_index_path  # lazy: numpy-free --help

    return given.expanduser() if given is not None else default_index_path()


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


def _shown(result: SearchResult | Mapping[str, Any]) -> dict[str, Any]:
    """What the CLI shows of a result, or of its plain data (:mod:`rir.results.plain`):
    every field but the screenshot's bytes and the hits' raw engine payloads, and
    ``has_screenshot``."""
    if isinstance(result, Mapping):
        from rir.results.plain import record_json_data

        return record_json_data(result)
    data = result.model_dump(mode="json", exclude={"screenshot": True,
                                                   "hits": {"__all__": {"raw"}}})
    data["has_screenshot"] = result.screenshot is not None
    return data


def result_json(result: SearchResult | Mapping[str, Any], *, query: str | None = None,
                indent: int | None = 2) -> str:
    """The result (or its plain data) as JSON without the raw engine payloads and
    screenshot bytes (:func:`_shown`).

    ``query`` (the image as the user gave it) leads the object, so JSON Lines of several
    searches say which line is which; ``indent=None`` gives one line.
    """
    data = _shown(result)
    if query is not None:
        data = {"query": query, **data}
    return json.dumps(data, indent=indent, ensure_ascii=False)


def regions_json(found: RegionsResult, *, query: str | None = None,
                 indent: int | None = 2) -> str:
    """A region search as JSON: its parts (each with its result, or its error) and the merged
    hits, without raw engine payloads or screenshot bytes; ``query`` leads, as in
    :func:`result_json`."""
    no_raw = {"__all__": {"raw"}}
    data = found.model_dump(mode="json", exclude={
        "hits": no_raw, "parts": {"__all__": {"result": {"screenshot": True, "hits": no_raw}}}})
    if query is not None:
        data = {"query": query, **data}
    return json.dumps(data, indent=indent, ensure_ascii=False)


def error_json(query: str, exc: BaseException) -> str:
    """One JSON Lines record for an image whose search failed."""
    return json.dumps({"query": query, "error": {"type": type(exc).__name__,
                                                 "message": one_line(exc)}},
                      ensure_ascii=False)


def middle_truncate(text: str, width: int) -> str:
    """``text`` cut to ``width`` characters by an ellipsis in the middle (host and end stay)."""
    if width < 5 or len(text) <= width:
        return text
    head = (width - 1) * 3 // 5
    tail = width - 1 - head
    return f"{text[:head]}…{text[-tail:]}"


def url_width(urls: Sequence[str | None], *, spare: int) -> int:
    """The width of a table's URL column: what ``spare`` columns leave, 24 to 60 characters.

    A folded URL spans many lines and an end-cut one loses the part that tells pages
    apart, so URLs are cut to this width in the middle (:func:`url_cell`).
    """
    longest = max((len(u) for u in urls if u), default=3)
    return min(longest, max(24, min(_URL_WIDTH, stdout.width - spare)))


def url_cell(url: str | None, width: int) -> Text:
    """A URL cut to ``width`` in the middle; terminals with hyperlinks open the whole URL."""
    from rich.style import Style
    from rich.text import Text

    if not url:
        return Text("")
    return Text(middle_truncate(url, width), style=Style(link=url), no_wrap=True)


def print_result(result: SearchResult | Mapping[str, Any], *, title: str | None = None) -> None:
    """A table of hits plus the best guess, for people (URLs shortened; --json has them whole).

    ``result``: a model, or its plain data (:mod:`rir.results.plain`), printed the same.
    """
    from rich.table import Table

    data = _shown(result)
    hits = data["hits"]
    width = url_width([hit["url"] for hit in hits], spare=56)
    table = Table(title=title, show_lines=False, expand=False)
    table.add_column("#", justify="right", style="bold", no_wrap=True)
    table.add_column("score", justify="right", no_wrap=True)
    table.add_column("match", no_wrap=True)
    table.add_column("title", overflow="fold", min_width=10, max_width=50)
    table.add_column("site", overflow="ellipsis", no_wrap=True, max_width=16)
    table.add_column("url", no_wrap=True, min_width=width, max_width=width)
    for hit in hits:
        score = f"{hit['score']:.2f}" if hit["score"] is not None else ""
        table.add_row(str(hit["position"]), score, hit["match_type"],
                      escape(hit["title"] or "(untitled)"), escape(hit["source"] or ""),
                      url_cell(hit["url"], width))
    if hits:
        stdout.print(table)
    else:
        stdout.print("[yellow]No matches.[/yellow]")
    if data["best_guess"]:
        stdout.print(f"[bold]Best guess:[/bold] {escape(data['best_guess'])}")
    for failure in data["failures"]:
        warn(f"skipped {failure['engine']}: {failure['error_type']}: {failure['message']}")
    cached = " (from cache)" if data["from_cache"] else ""
    stdout.print(f"[dim]{plural(len(hits), 'hit')} from {data['engine']} in "
                 f"{data['elapsed_s']:.2f}s{cached}[/dim]")


def print_regions_result(found: RegionsResult) -> None:
    """One table per searched region (its own hits), then the merged best guess and totals."""
    for number, part in enumerate(found.parts, 1):
        heading = part.heading(number)
        if number > 1:
            stdout.print()
        if part.result is None:
            error = part.error
            stdout.print(f"[bold]{escape(heading)}[/bold]")
            warn(f"rir: {heading}: could not be searched: "
                 f"{error.error_type + ': ' + error.message if error else 'no result'}")
            continue
        print_result(part.result, title=heading)
    stdout.print()
    if found.best_guess:
        stdout.print(f"[bold]Best guess over the regions:[/bold] {escape(found.best_guess)}")
    failed = len(found.failed_parts)
    note = f", {failed} failed" if failed else ""
    stdout.print(f"[dim]{plural(len(found.parts), 'region')}{note}, "
                 f"{plural(found.metadata.get('merged_hits', len(found.hits)), 'distinct hit')} "
                 f"from {found.engine} in {found.elapsed_s:.2f}s[/dim]")
