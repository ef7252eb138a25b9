"""``rir cache``: inspect or clear the result cache."""

from __future__ import annotations

import argparse
import json

from rir.cli._common import plural


def register(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="cache_command", metavar="ACTION", required=True)
    stats = actions.add_parser("stats", help="where the cache is and what it holds")
    stats.set_defaults(handler=run_stats)
    clear = actions.add_parser("clear", help="delete every cached result")
    clear.set_defaults(handler=run_clear)


def run_stats(args: argparse.Namespace) -> int:
    from rir.results.cache import ResultCache

    print(json.dumps(ResultCache().stats(), indent=2))
    return 0


def run_clear(args: argparse.Namespace) -> int:
    from rir.results.cache import ResultCache

    removed = ResultCache().clear()
    print(f"removed {plural(removed, 'cached result')}")
    return 0
