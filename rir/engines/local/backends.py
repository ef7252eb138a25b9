"""Choosing a LocalIndex backend: the SQLite file (default), Qdrant, or a given object."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rir.engines.local.backend import IndexBackend
from rir.errors import ConfigurationError

__all__ = ["BACKEND_NAMES", "open_backend"]

BACKEND_NAMES = ("sqlite", "qdrant")
_QDRANT_OPTIONS = ("url", "api_key", "collection", "shard_number", "replication_factor")


def open_backend(backend: IndexBackend | str | None, path: Path | None, *, create: bool,
                 **options: Any) -> IndexBackend:
    """The storage for ``LocalIndex(backend=..., url=..., ...)``; options unset are None."""
    given = sorted(k for k in _QDRANT_OPTIONS if options.get(k) is not None)
    if backend is None or backend == "sqlite":
        if given:
            raise ConfigurationError(
                f"{', '.join(given)} {'is' if len(given) == 1 else 'are'} for "
                "backend='qdrant'; pass backend='qdrant' too, or leave "
                f"{'it' if len(given) == 1 else 'them'} out for the SQLite file.")
        from rir.engines.local.store import IndexStore

        return IndexStore(path)
    if backend == "qdrant":
        from rir.engines.local.qdrant_backend import QdrantBackend

        collection = options.get("collection") or "rir-index"
        return QdrantBackend(options.get("url"), api_key=options.get("api_key"),
                             collection=collection, shard_number=options.get("shard_number"),
                             replication_factor=options.get("replication_factor"),
                             create=create)
    if isinstance(backend, str):
        raise ConfigurationError(f"Unknown backend {backend!r}; use one of "
                                 f"{', '.join(BACKEND_NAMES)} or an IndexBackend object.")
    if not isinstance(backend, IndexBackend):
        raise ConfigurationError(
            f"backend must implement rir.engines.local.backend.IndexBackend, got "
            f"{type(backend).__name__}.")
    if given:
        raise ConfigurationError(f"{', '.join(given)}: set these on the backend object you pass.")
    return backend
