"""``rir index copy SRC DST``: move an index between an index file and Qdrant.

SRC and DST are written as in :mod:`rir.engines.local.targets` (a file path,
``qdrant://HOST:PORT/COLLECTION``, ``qdrant+local:FOLDER/COLLECTION``). DST must
not exist yet. A file is written under a temporary name and renamed when
complete; a collection is deleted again if the copy fails: either DST holds
the whole index or it does not exist.
"""

from __future__ import annotations

import argparse
import os
import sys

from rir.cli._common import positive_int, stdout
from rir.cli._error_lines import EXIT_OK
from rir.errors import ConfigurationError

_WHERE_HELP = ("a file path, qdrant://HOST:PORT/COLLECTION (qdrants:// for HTTPS; API key from "
               "$QDRANT_API_KEY) or qdrant+local:FOLDER/COLLECTION")


def register(actions: argparse._SubParsersAction) -> None:
    copy = actions.add_parser(
        "copy", help="copy an index to another backend (file <-> Qdrant)",
        description="Copy every image and page of the index SRC into DST, a new index: "
        f"each is {_WHERE_HELP}. If the copy fails DST is not left half-written.",
    )
    copy.add_argument("source", metavar="SRC", help="the index to copy")
    copy.add_argument("destination", metavar="DST", help="where to copy it (must not exist)")
    copy.add_argument("--shard-number", type=positive_int, default=None, metavar="N",
                      help="a new Qdrant collection: shards (default: the server's)")
    copy.add_argument("--replication-factor", type=positive_int, default=None, metavar="N",
                      help="a new Qdrant collection: copies of each shard (default: the "
                      "server's)")
    copy.set_defaults(handler=run_copy)


def run_copy(args: argparse.Namespace) -> int:
    import uuid

    from rir._runtime import ProgressBar
    from rir.engines.local.copy import copy_index
    from rir.engines.local.targets import IndexTarget, parse_target

    source, destination = parse_target(args.source), parse_target(args.destination)
    if str(source) == str(destination):
        raise ConfigurationError(f"SRC and DST are both {source}; pass another DST.")
    if destination.kind == "file" and (args.shard_number or args.replication_factor):
        raise ConfigurationError("--shard-number and --replication-factor are for a Qdrant "
                                 "DST; leave them out for a file.")
    if not source.exists():
        raise ConfigurationError(f"No index at {source}; pass an existing index as SRC.")
    if destination.exists():
        raise ConfigurationError(f"{destination} already exists; pass a new file or "
                                 "collection as DST (nothing was copied).")
    # A file is built beside its final name and renamed once complete.
    building = destination if destination.kind != "file" else IndexTarget(
        "file", path=destination.path.with_name(  # type: ignore[union-attr]
            f".{destination.path.name}.{uuid.uuid4().hex[:8]}.partial"))  # type: ignore[union-attr]
    reader = source.open(create=False)
    try:
        writer = building.open(create=True, shard_number=args.shard_number,
                               replication_factor=args.replication_factor)
        try:
            with ProgressBar(1, label="copying", unit="pages",
                             enabled=sys.stderr.isatty()) as bar:
                report = copy_index(reader, writer, progress=bar.update)
        except BaseException:
            writer.close()
            building.remove()
            raise
        writer.close()
    finally:
        reader.close()
    if building is not destination:
        os.replace(building.path, destination.path)  # type: ignore[arg-type]
    stdout.print(f"copied {report.images} image{'' if report.images == 1 else 's'} on "
                 f"{report.pages} page{'' if report.pages == 1 else 's'} from {source} to "
                 f"{destination}.", markup=False)
    return EXIT_OK

