"""Searching several images in one command: one block (or JSON line) per image.

A failing image is reported (stderr, and a JSON Lines error record with ``--json``)
and the others are still searched; the exit status says whether any failed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from rir.cli._common import (
    error_json,
    escape,
    plural,
    print_regions_result,
    print_result,
    regions_json,
    result_json,
    stdout,
    warn,
)
from rir.cli._error_lines import EXIT_BAD_INPUT, EXIT_FAILURE, EXIT_OK, error_line, exit_code_for

if TYPE_CHECKING:
    from rir.results.models import SearchResult
    from rir.results.region_parts import RegionsResult

__all__ = ["search_each"]


def search_each(
    images: Sequence[str],
    search: Callable[[str], SearchResult | RegionsResult | Mapping[str, Any]],
    *,
    as_json: bool,
    flags: frozenset[str],
    debug: bool = False,
) -> int:
    """Run ``search`` on each image in order, printing each result as it arrives (a
    result, a region search's, or a result as plain data: :mod:`rir.results.plain`).

    Exit status: 0 when every image was searched; 1 when some failed; when all of
    them failed, 2 if every failure was bad input (a missing file, not an image) and
    1 otherwise, the same codes a single image's error gets.
    """
    several = len(images) > 1
    failures: list[BaseException] = []
    for number, image in enumerate(images, 1):
        try:
            result = search(image)
        except Exception as exc:  # one image's failure must not stop the rest
            if debug:
                raise
            failures.append(exc)
            warn(error_line(exc, flags, about=image if several else None))
            if as_json:
                print(error_json(image, exc), flush=True)
            continue
        if as_json:
            print(_json_line(result, image), flush=True)
            continue
        if several:
            if number > 1:
                stdout.print()
            stdout.print(f"[bold]{number}/{len(images)}[/bold] {escape(image)}")
        _print(result)
    if not failures:
        return EXIT_OK
    if several:
        warn(f"rir: {len(images) - len(failures)} of {plural(len(images), 'image')} searched, "
             f"{len(failures)} failed")
    if len(failures) == len(images) and all(exit_code_for(e) == EXIT_BAD_INPUT for e in failures):
        return EXIT_BAD_INPUT
    return EXIT_FAILURE


def _json_line(result: SearchResult | RegionsResult | Mapping[str, Any], query: str) -> str:
    if isinstance(result, Mapping):  # plain data: pydantic stays unloaded
        return result_json(result, query=query, indent=None)
    from rir.results.region_parts import RegionsResult

    if isinstance(result, RegionsResult):
        return regions_json(result, query=query, indent=None)
    return result_json(result, query=query, indent=None)


def _print(result: SearchResult | RegionsResult | Mapping[str, Any]) -> None:
    if isinstance(result, Mapping):  # plain data: pydantic stays unloaded
        print_result(result)
        return
    from rir.results.region_parts import RegionsResult

    if isinstance(result, RegionsResult):
        print_regions_result(result)
    else:
        print_result(result)
