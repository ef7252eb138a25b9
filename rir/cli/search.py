"""``rir search IMAGE``: reverse image search with any engine."""

from __future__ import annotations

import argparse
from pathlib import Path

from rir.cli._common import add_index_argument, parse_engine_options, print_result, result_json
from rir.search import ReverseImageSearch


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "search", help="reverse image search for IMAGE (a path, URL or data: URI)",
        description="Find where IMAGE (or near-identical copies) appears.",
    )
    parser.add_argument("image", metavar="IMAGE", help="a local path, http(s) URL or data: URI")
    parser.add_argument("--engine", "-e", default=None,
                        help="engine name (auto, local, google_lens, serpapi, cloud_vision, "
                        "picimagesearch:<provider>, ...); default: local with --index, else auto")
    parser.add_argument("-k", type=int, default=10, help="number of hits (default 10)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("--show", action="store_true",
                        help="draw the query beside the top hits (PNG when there is no display)")
    parser.add_argument("-o", "--option", action="append", metavar="KEY=VALUE",
                        help="engine option, repeatable (e.g. -o hl=en -o headless=false)")
    parser.add_argument("--save-html", type=Path, default=None, metavar="PATH",
                        help="browser engines: save the results page here for a bug report")
    parser.add_argument("--screenshot", type=Path, default=None, metavar="PNG",
                        help="save the engine's results screenshot, when it took one")
    parser.add_argument("--no-cache", action="store_true", help="do not read or write the cache")
    parser.add_argument("--refresh", action="store_true", help="ignore cached results")
    parser.add_argument("--allow-private-urls", action="store_true",
                        help="allow image URLs on private networks / localhost")
    add_index_argument(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    options = parse_engine_options(args.option)
    engine = args.engine or ("local" if args.index else "auto")
    if args.index is not None:
        options.setdefault("path", str(args.index))
    if args.save_html is not None:
        options.setdefault("save_html", str(args.save_html))
    with ReverseImageSearch(engine, cache=not args.no_cache,
                            allow_private_urls=args.allow_private_urls, **options) as searcher:
        result = searcher.search(args.image, k=args.k, refresh=args.refresh,
                                 show_result=args.show)
    if args.screenshot is not None and result.screenshot:
        args.screenshot.write_bytes(result.screenshot)
    if args.json:
        print(result_json(result))
    else:
        print_result(result)
    return 0
