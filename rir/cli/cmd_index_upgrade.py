"""``rir index upgrade``: migrate an index file written by an older version, in place.

Commands that only read an index (``stats``, ``search``, ``list``, ``rir search``) never
rewrite its file: an index in an older format is refused by them with this command's
name. The old file is kept beside the new one (``NAME.v1.bak``).
"""

from __future__ import annotations

import argparse

from rir.cli._common import add_index_argument
from rir.cli._error_lines import EXIT_OK
from rir.cli.cmd_index_where import index_target
from rir.errors import ConfigurationError


def register(actions: argparse._SubParsersAction) -> None:
    upgrade = actions.add_parser(
        "upgrade", help="migrate an index file from an older version (keeps a copy)",
        description="Migrate the index file to this version's format in place, after a "
        "consistent copy of it is saved beside it as NAME.v1.bak. A current file is left "
        "as it is.",
    )
    add_index_argument(upgrade, locations=True)
    upgrade.set_defaults(handler=run_upgrade)


def run_upgrade(args: argparse.Namespace) -> int:
    from rir.engines.local.schema import FORMAT, upgrade_index

    target = index_target(args.index)
    if target.kind != "file" or target.path is None:
        raise ConfigurationError(f"{target} is a Qdrant collection: only index files have "
                                 "older formats to upgrade.")
    path = target.path
    backup = upgrade_index(path)
    if backup is None:
        print(f"{path} is already in format {FORMAT}: nothing to do.")
    else:
        print(f"Upgraded {path} to format {FORMAT}; the old file is kept as {backup}.")
    return EXIT_OK
