"""Which index a ``rir index`` command works on: ``--index`` as a file or a Qdrant collection."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from rir.cli._common import index_path

if TYPE_CHECKING:
    from rir.engines.local import LocalIndex
    from rir.engines.local.targets import IndexTarget


def index_target(given: str | None) -> IndexTarget:
    """``--index`` parsed (see rir.engines.local.targets); unset: the default index file."""
    from rir.engines.local.targets import IndexTarget, parse_target

    if given is None:
        return IndexTarget("file", path=index_path(None))
    return parse_target(given)


def open_collection(target: IndexTarget, **options: Any) -> LocalIndex:
    """An existing collection as a LocalIndex (a missing one: an error naming the fix)."""
    from rir.engines.local import LocalIndex

    return LocalIndex(backend=target.open(create=False), **options)


@contextmanager
def collection_for_writing(target: IndexTarget) -> Iterator[LocalIndex]:
    """A collection to add to; one this command created and left empty is deleted again."""
    from rir.engines.local import LocalIndex

    existed = target.exists()
    index = LocalIndex(backend=target.open(create=True))
    try:
        yield index
    finally:
        empty = len(index) == 0
        index.close()
        if not existed and empty:
            target.remove()
