"""``rir index``: build and query a local index of your own images.

Arguments are checked before the index file is opened, so a command that fails
on its arguments creates and changes nothing; a new index file that a failed
``add`` left empty is removed again.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rir.cli import cmd_index_copy, cmd_index_pages, cmd_index_upgrade
from rir.cli._common import (
    add_image_limit_arguments,
    add_index_argument,
    plural,
    policy_from_args,
    positive_int,
    stdout,
    warn,
)
from rir.cli._each import search_each
from rir.cli._error_lines import EXIT_FAILURE, EXIT_OK, for_cli
from rir.cli.cmd_index_where import collection_for_writing, index_target, open_collection
from rir.cli.cmd_search import IMAGE_HELP
from rir.errors import ConfigurationError

if TYPE_CHECKING:
    from rir.engines.local import LocalIndex


def register(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "A reverse image index of your own images, in one file (default: "
        "$RIR_INDEX, else index.rir in the user data dir)."
    )
    actions = parser.add_subparsers(dest="index_command", metavar="ACTION", required=True)

    add = actions.add_parser(
        "add", help="index every image in a folder, or one image file",
        description="Index PATH: every image in a folder (titles from --captions, sidecar "
        ".json/.txt files, else file names), or one image file (--title, --caption, --url).",
    )
    add.add_argument("path", type=Path, metavar="PATH", help="a folder of images, or one image")
    add.add_argument("--captions", type=Path, default=None, metavar="FILE",
                     help="folders: JSONL or CSV with file, title, caption, url columns "
                     "(default: sidecar .json/.txt files, else file names)")
    add.add_argument("--no-recursive", action="store_true",
                     help="folders: do not descend into subfolders")
    add.add_argument("--workers", type=positive_int, default=None, metavar="N",
                     help="folders: fingerprint on N processes (default: every core)")
    add.add_argument("--executor", choices=("processes", "ray"), default=None,
                     help="folders: where fingerprints are computed: processes on this machine "
                     "(default) or a Ray cluster ($RAY_ADDRESS, else a local Ray; pip install "
                     "'reverse-image-rag[eval]')")
    add.add_argument("--title", default=None,
                     help="one image: what it shows (default: its sidecar file, else its name)")
    add.add_argument("--caption", default=None, help="one image: a caption or description")
    add.add_argument("--url", default=None,
                     help="one image: the page it appears on (the same image with another "
                     "--url adds a page; with the same --url updates that page)")
    add.add_argument("--image-url", default=None,
                     help="one image: where the image itself is online")
    add_index_argument(add, locations=True)
    add.set_defaults(handler=run_add)

    search = actions.add_parser(
        "search", help="search the index for IMAGE (several: one block each)",
        description="Search the local index for each IMAGE: a table per image, or one JSON "
        "object per line with --json.",
    )
    search.add_argument("images", nargs="+", metavar="IMAGE", help=IMAGE_HELP)
    search.add_argument("-k", type=positive_int, default=10, metavar="N",
                        help="at most N hits per image (default 10)")
    search.add_argument("--min-score", type=float, default=0.3, metavar="SCORE",
                        help="drop hits scoring below SCORE (0-1, default 0.3)")
    search.add_argument("--json", action="store_true",
                        help="print JSON Lines: one object per image with its hits and whole "
                        "URLs (\"query\" names the image; a failed image has \"error\")")
    search.add_argument("--allow-private-urls", action="store_true",
                        help="allow image URLs on private networks / localhost")
    add_image_limit_arguments(search)
    add_index_argument(search, locations=True)
    search.set_defaults(handler=run_search)

    cmd_index_pages.register(actions, _open_existing)
    cmd_index_copy.register(actions)
    cmd_index_upgrade.register(actions)

    stats = actions.add_parser("stats", help="what the index holds (JSON)",
                               description="Print what the index holds, as JSON, after "
                               "checking every page of an index file (about 5 s per GB).")
    stats.add_argument("--no-check", action="store_true",
                       help="skip the check of every page (counts only: instant on any size)")
    add_index_argument(stats, locations=True)
    stats.set_defaults(handler=run_stats)


# -- add ----------------------------------------------------------------------------------------


def _check_add_arguments(args: argparse.Namespace) -> Path:
    """The image or folder to add, once the arguments are known to make sense together."""
    target = args.path.expanduser()
    one_image = {"--title": args.title, "--caption": args.caption, "--url": args.url,
                 "--image-url": args.image_url}
    given = [flag for flag, value in one_image.items() if value is not None]
    if target.is_dir():
        if given:
            raise ConfigurationError(
                f"{', '.join(given)} describe one image, but '{target}' is a folder; put "
                "titles, captions and URLs in a --captions FILE (or sidecar files), or pass "
                "one image file."
            )
        if args.executor == "ray" and args.workers is not None:
            raise ConfigurationError("--workers is for the process pool; with --executor ray "
                                     "the cluster's CPUs are used: leave --workers out.")
        if args.executor == "ray":
            from rir._ray import import_ray

            import_ray("leave out --executor ray")  # missing Ray: exit 2 before opening
        if args.captions is not None and not args.captions.expanduser().is_file():
            raise ConfigurationError(
                f"No captions file at '{args.captions}'; pass an existing JSONL or CSV file "
                "to --captions, or leave it out."
            )
        from rir.engines.local.captions import load_captions
        from rir.engines.local.folder import list_images

        list_images(target, recursive=not args.no_recursive)  # "No images in ..." before opening
        if args.captions is not None:
            load_captions(args.captions)  # a malformed file fails here, not half-way
    elif target.is_file():
        for flag, value in (("--captions", args.captions), ("--no-recursive", args.no_recursive),
                            ("--workers", args.workers), ("--executor", args.executor)):
            if value:
                raise ConfigurationError(
                    f"{flag} is for folders, but '{target}' is one file; describe it with "
                    "--title, --caption and --url instead."
                )
        if args.title is not None and not args.title.strip():
            raise ConfigurationError("--title is empty; say what the image shows.")
    else:
        raise ConfigurationError(
            f"No such file or folder: '{target}'; pass a folder of images or one image file."
        )
    return target


@contextmanager
def _index_for_writing(path: Path) -> Iterator[LocalIndex]:
    """Open ``path`` for adding; a new file that ends up empty (a failure, or every file
    failed) is removed again, with any folders made for it: a failed add creates nothing."""
    from rir.engines.local import LocalIndex

    new_dirs = [p for p in (path.parent, *path.parent.parents) if not p.exists()]
    existed = path.exists()
    index = LocalIndex(path)
    try:
        yield index
    finally:
        empty = len(index) == 0
        index.close()
        if not existed and empty:
            for leftover in (path, *(path.with_name(path.name + s) for s in ("-wal", "-shm"))):
                leftover.unlink(missing_ok=True)
            for folder in new_dirs:  # innermost first: only the ones this command made
                if folder.is_dir() and not any(folder.iterdir()):
                    folder.rmdir()


def run_add(args: argparse.Namespace) -> int:
    from rir.engines.local.captions import caption_for

    target = _check_add_arguments(args)
    place = index_target(args.index)
    with _index_for_writing(place.path) if place.kind == "file" \
            else collection_for_writing(place) as index:  # type: ignore[arg-type]
        if target.is_file():
            record = caption_for(target, target.parent, None)
            index.add(target, title=args.title or record.title or target.stem,
                      caption=args.caption if args.caption is not None else record.caption,
                      url=args.url if args.url is not None else record.url,
                      image_url=args.image_url if args.image_url is not None
                      else record.image_url,
                      metadata={"file": target.name, **record.metadata})
            added, failed = 1, []
        else:
            from rir._runtime import ProgressBar

            # A bar only for a person watching: piped output and logs get the summary alone.
            with ProgressBar(1, label="indexing", unit="images",
                             enabled=sys.stderr.isatty()) as bar:
                report = index.add_folder(target, captions=args.captions,
                                          recursive=not args.no_recursive,
                                          workers=args.workers, progress=bar.update,
                                          executor=args.executor or "processes")
            added, failed = len(report.added), report.failed
        stats = index.stats()
    for file, error in failed:
        warn(f"rir: skipped {file}: {for_cli(error, frozenset())}")
    where = f"the index at {place} now holds {_holds(stats)}" if place.exists() \
        else f"no index was created at {place}"
    stdout.print(f"{plural(added, 'image')} indexed, {len(failed)} failed; {where}.",
                 markup=False)
    return EXIT_FAILURE if failed else EXIT_OK


def _holds(stats: dict[str, Any]) -> str:
    images, pages = int(stats["images"]), int(stats["pages"])
    if pages == images:
        return plural(images, "image")
    return f"{plural(images, 'image')} on {plural(pages, 'page')}"


# -- search and stats ---------------------------------------------------------------------------


def _open_existing(given: str | None, **options: Any) -> LocalIndex:
    from rir.engines.local import LocalIndex

    place = index_target(given)
    if place.kind != "file":
        return open_collection(place, **options)
    # None (not the default's path) so that a missing default index gets its own message.
    return LocalIndex(None if given is None else place.path, create=False, **options)


def run_search(args: argparse.Namespace) -> int:
    from rir.inputs.images import load_image

    if not 0.0 <= args.min_score <= 1.0:
        raise ConfigurationError(f"--min-score must be between 0 and 1, got {args.min_score}.")
    policy = policy_from_args(args)
    with _open_existing(args.index) as index:

        def search_one(image: str) -> dict[str, Any]:  # plain data: pydantic stays unloaded
            return index.query_data(load_image(image, policy=policy), k=args.k,
                                    min_score=args.min_score)

        return search_each(args.images, search_one, as_json=args.json, flags=args.flags,
                           debug=args.debug)


def run_stats(args: argparse.Namespace) -> int:
    with _open_existing(args.index) as index:
        print(json.dumps(index.stats(check=not args.no_check), indent=2))
    return EXIT_OK
