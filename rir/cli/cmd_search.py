"""``rir search IMAGE [IMAGE ...]``: reverse image search with any engine."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rir.cli._common import (
    add_image_limit_arguments,
    add_index_argument,
    non_negative_int,
    parse_engine_options,
    policy_from_args,
    positive_int,
)
from rir.cli._each import search_each
from rir.errors import ConfigurationError

if TYPE_CHECKING:
    from rir.results.models import SearchResult
    from rir.results.region_parts import RegionsResult

IMAGE_HELP = ("a local path, file:// URL, http(s) URL or data: URI; several are searched one "
              "after another (local files are read because you named them)")


def register(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Find the pages where IMAGE (or near-identical copies) appears: a table per "
        "image, or one JSON object per line with --json."
    )
    parser.add_argument("images", nargs="+", metavar="IMAGE", help=IMAGE_HELP)
    parser.add_argument("--engine", "-e", default=None,
                        help="engine name (auto, local, google_lens, serpapi, cloud_vision, "
                        "picimagesearch:<provider>, ...); default: local with --index, else "
                        "auto (a web engine: it never picks your index); local without --index "
                        "searches the default index ($RIR_INDEX, else the data dir's)")
    parser.add_argument("-k", type=positive_int, default=10, metavar="N",
                        help="at most N hits per image (default 10)")
    parser.add_argument("--json", action="store_true",
                        help="print JSON Lines: one object per image with its hits and whole "
                        "URLs (\"query\" names the image; a failed image has \"error\")")
    parser.add_argument("--show", action="store_true",
                        help="draw the query beside the top hits (PNG when there is no display); "
                        "searched regions are drawn on the query as numbered boxes")
    regions = parser.add_mutually_exclusive_group()
    regions.add_argument("--region", action="append", metavar="X1,Y1,X2,Y2",
                         help="search only this part of IMAGE (left, top, right, bottom; in "
                         "pixels of the image as shown, EXIF rotation applied, unless "
                         "--region-scale); repeat for several parts, each searched on its own")
    regions.add_argument("--regions", choices=("auto",), default=None,
                         help="auto: search the whole image and the parts worth searching on "
                         "their own (photos inside a screenshot, page or collage); results "
                         "are shown per region")
    parser.add_argument("--region-scale", choices=("px", "1000", "1"), default="px",
                        help="the scale of --region: px (pixels, default), 1000 (the 0-1000 "
                        "grid vision-language models emit) or 1 (fractions of the size)")
    parser.add_argument("--max-paid-calls", type=non_negative_int, default=None, metavar="N",
                        help="paid engine calls (serpapi, cloud_vision) one region search may "
                        "make before it is refused (default 8; cached regions are free)")
    parser.add_argument("-o", "--option", action="append", metavar="KEY=VALUE",
                        help="engine option, repeatable (e.g. -o hl=en -o headless=false)")
    parser.add_argument("--save-html", type=Path, default=None, metavar="PATH",
                        help="browser engines: save the results page here for a bug report "
                        "(one IMAGE only)")
    parser.add_argument("--screenshot", type=Path, default=None, metavar="PNG",
                        help="save the engine's results screenshot, when it took one "
                        "(one IMAGE only)")
    parser.add_argument("--no-cache", action="store_true", help="do not read or write the cache")
    parser.add_argument("--refresh", action="store_true",
                        help="search again even when the cache has a result (and update it)")
    parser.add_argument("--allow-private-urls", action="store_true",
                        help="allow image URLs on private networks / localhost")
    add_image_limit_arguments(parser)
    add_index_argument(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from rir.search import ReverseImageSearch  # lazy: `rir --help` stays fast

    for flag, value in (("--screenshot", args.screenshot), ("--save-html", args.save_html)):
        if value is not None and len(args.images) > 1:
            raise ConfigurationError(
                f"{flag} saves one image's page; pass one IMAGE, or drop {flag}."
            )
    wanted = _wanted_regions(args)
    options = parse_engine_options(args.option)
    engine = args.engine or ("local" if args.index else "auto")
    if args.index is not None:
        options.setdefault("path", str(args.index))
    if args.save_html is not None:
        options.setdefault("save_html", str(args.save_html))
    if args.max_paid_calls is not None:
        options["max_paid_calls"] = args.max_paid_calls
    with ReverseImageSearch(engine, cache=not args.no_cache, policy=policy_from_args(args),
                            **options) as searcher:

        def search_one(image: str) -> SearchResult | RegionsResult:
            found: SearchResult | RegionsResult
            if wanted is None:
                found = searcher.search(image, k=args.k, refresh=args.refresh,
                                        show_result=args.show)
                screenshot = found.screenshot
            else:  # given boxes are searched on their own; auto with the whole image
                found = searcher.search_regions(image, wanted, k=args.k, refresh=args.refresh,
                                                show_result=args.show,
                                                include_whole=wanted == "auto")
                screenshot = found.as_search_result().screenshot
            if args.screenshot is not None and screenshot:
                args.screenshot.write_bytes(screenshot)
            return found

        return search_each(args.images, search_one, as_json=args.json, flags=args.flags,
                           debug=args.debug)


def _wanted_regions(args: argparse.Namespace) -> Any:
    """``"auto"``, the ``--region`` boxes (checked now: a bad box searches nothing), or None."""
    if args.regions:
        return args.regions
    if not args.region:
        if args.region_scale != "px":
            raise ConfigurationError("--region-scale sets the scale of --region boxes; give "
                                     "--region X1,Y1,X2,Y2 too, or drop --region-scale.")
        return None
    from rir.inputs.region import Region

    return [Region.parse(text, unit=args.region_scale) for text in args.region]
