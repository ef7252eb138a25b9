"""``rir index list`` and ``rir index remove``: the pages an index holds, and taking them out.

An indexed image can be on many pages; a page has its own id (``page_id``) and
names its image (``image_id``, shared by every page of that picture, and what a
search hit carries in ``metadata["image_id"]``).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from dataclasses import asdict
from typing import TYPE_CHECKING

from rir.cli._common import add_index_argument, escape, plural, stdout, url_cell, url_width
from rir.cli._error_lines import EXIT_OK
from rir.errors import ConfigurationError

if TYPE_CHECKING:
    from rich.table import Table

    from rir.engines.local import IndexedPage, LocalIndex


def register(actions: argparse._SubParsersAction,
             open_existing: Callable[[str | None], LocalIndex]) -> None:
    listing = actions.add_parser(
        "list", help="the pages the index holds (which image each shows)",
        description="List every page in the index (or one image's pages), grouped by image: "
        "image id, page id, title and url. --json prints one page per line with every field "
        "(caption, image_url, metadata, added_at).",
    )
    listing.add_argument("--image", default=None, metavar="IMAGE_ID",
                         help="only the pages of this image (a hit's metadata image_id)")
    listing.add_argument("--json", action="store_true",
                         help="print JSON Lines: one page per line with every field")
    add_index_argument(listing, locations=True)
    listing.set_defaults(handler=lambda args: run_list(args, open_existing))

    remove = actions.add_parser(
        "remove", help="remove pages (or, with --image, images and all their pages)",
        description="Remove the pages with these ids; an image left on no page goes too. "
        "With --image the ids are image ids, and every page of each image goes. Every id is "
        "checked first: if one is unknown nothing is removed.",
    )
    remove.add_argument("ids", nargs="+", metavar="ID",
                        help="page ids (from 'rir index list'), or image ids with --image")
    remove.add_argument("--image", action="store_true",
                        help="the ids are image ids: remove each image and all its pages")
    add_index_argument(remove, locations=True)
    remove.set_defaults(handler=lambda args: run_remove(args, open_existing))


def run_list(args: argparse.Namespace, open_existing: Callable[[str | None], LocalIndex]) -> int:
    with open_existing(args.index) as index:
        pages = index.pages(args.image)
        if args.image is not None and not pages:
            raise ConfigurationError(
                f"No image with id '{args.image}' in the index; 'rir index list' shows the ids."
            )
        stats = index.stats()
    if args.json:
        for page in pages:
            print(json.dumps(asdict(page), ensure_ascii=False))
        return EXIT_OK
    if pages:
        stdout.print(_table(pages))
    images = len({page.image_id for page in pages})
    scope = "" if args.image is None else f" (image {args.image})"
    stdout.print(f"{plural(len(pages), 'page')} of {plural(images, 'image')}{scope}; the index "
                 f"at {stats['path']} holds {plural(int(stats['pages']), 'page')} of "
                 f"{plural(int(stats['images']), 'image')}.", markup=False)
    return EXIT_OK


def _table(pages: list[IndexedPage]) -> Table:
    """Pages grouped by image (its id on its first row); dates and metadata are in --json."""
    from rich import box
    from rich.table import Table

    width = url_width([page.url for page in pages], spare=58)
    table = Table(box=box.SIMPLE_HEAD, show_lines=False, expand=False, pad_edge=False,
                  collapse_padding=True)
    table.add_column("image id", no_wrap=True, min_width=20)
    table.add_column("page id", no_wrap=True, min_width=20)
    table.add_column("title", overflow="fold", min_width=10, max_width=40)
    table.add_column("url", no_wrap=True, max_width=width)
    previous = None
    for page in sorted(pages, key=lambda p: (p.image_id, p.added_at)):
        shown = page.image_id if page.image_id != previous else ""
        previous = page.image_id
        table.add_row(shown, page.page_id, escape(page.title), url_cell(page.url, width))
    return table


def run_remove(args: argparse.Namespace,
               open_existing: Callable[[str | None], LocalIndex]) -> int:
    ids = list(dict.fromkeys(i.strip() for i in args.ids))
    kind = "image" if args.image else "page"
    with open_existing(args.index) as index:
        known = ({i for i in ids if index.pages(i)} if args.image
                 else {page.page_id for page in index.pages()})
        unknown = [i for i in ids if i not in known]
        if unknown:  # checked before anything is removed: a typo changes nothing
            raise ConfigurationError(
                f"No {kind} with id {', '.join(repr(i) for i in unknown)} in the index; "
                f"nothing was removed. 'rir index list' shows the ids"
                + ("." if args.image else " (image ids need --image).")
            )
        if args.image:
            pages = sum(index.remove_image(i) for i in ids)
        else:
            pages = sum(bool(index.remove(i)) for i in ids)
        stats = index.stats()
    what = f"{plural(len(ids), 'image')} ({plural(pages, 'page')})" if args.image \
        else plural(pages, "page")
    stdout.print(f"Removed {what}; the index at {stats['path']} now holds "
                 f"{plural(int(stats['pages']), 'page')} of "
                 f"{plural(int(stats['images']), 'image')}.", markup=False)
    return EXIT_OK
