"""``rir index``: build and query a local index of your own images."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from rir.cli._common import (
    add_index_argument,
    default_index_path,
    print_result,
    result_json,
    stdout,
)
from rir.errors import ConfigurationError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("index", help="build and search a local image index")
    actions = parser.add_subparsers(dest="index_command", metavar="ACTION", required=True)

    add = actions.add_parser("add", help="index every image in FOLDER")
    add.add_argument("folder", type=Path, metavar="FOLDER")
    add.add_argument("--captions", type=Path, default=None, metavar="FILE",
                     help="JSONL or CSV with file, title, caption, url columns "
                     "(default: sidecar .json/.txt files, else file names)")
    add.add_argument("--no-recursive", action="store_true", help="do not descend into subfolders")
    add_index_argument(add)
    add.set_defaults(handler=run_add)

    search = actions.add_parser("search", help="search the index for IMAGE")
    search.add_argument("image", metavar="IMAGE")
    search.add_argument("-k", type=int, default=10)
    search.add_argument("--min-score", type=float, default=0.3,
                        help="drop hits scoring below this (0-1, default 0.3)")
    search.add_argument("--json", action="store_true")
    search.add_argument("--allow-private-urls", action="store_true")
    add_index_argument(search)
    search.set_defaults(handler=run_search)

    stats = actions.add_parser("stats", help="what the index holds")
    add_index_argument(stats)
    stats.set_defaults(handler=run_stats)


def _existing_index(path: Path | None) -> Path:
    path = path or default_index_path()
    if not path.is_file():
        raise ConfigurationError(
            f"No index at '{path}'; build one with 'rir index add FOLDER --index {path}'."
        )
    return path


def run_add(args: argparse.Namespace) -> int:
    from rir.engines.local import LocalIndex

    path = args.index or default_index_path()
    with LocalIndex(path) as index:
        with stdout.status(f"indexing {args.folder} ..."):
            report = index.add_folder(args.folder, captions=args.captions,
                                      recursive=not args.no_recursive)
        total = len(index)
    for file, error in report.failed:
        stdout.print(f"[yellow]skipped[/yellow] {file}: {error}")
    stdout.print(f"{report}; the index at {path} now holds {total} images.")
    return 0 if report.added or not report.failed else 1


def run_search(args: argparse.Namespace) -> int:
    from rir.engines.local import LocalIndex
    from rir.images import load_image

    image = load_image(args.image, allow_private_urls=args.allow_private_urls)
    with LocalIndex(_existing_index(args.index), min_score=args.min_score) as index:
        result = index.search(image, k=args.k)
    if args.json:
        print(result_json(result))
    else:
        print_result(result)
    return 0


def run_stats(args: argparse.Namespace) -> int:
    from rir.engines.local import LocalIndex

    with LocalIndex(_existing_index(args.index)) as index:
        print(json.dumps(index.stats(), indent=2))
    return 0
