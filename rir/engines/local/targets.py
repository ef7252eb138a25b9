"""Where an index lives, written as one string (for ``rir index copy`` and ``--index``).

* ``photos.rir`` (any path): the embedded SQLite index file;
* ``qdrant://HOST:PORT/COLLECTION`` (``qdrants://`` for HTTPS): a collection on a Qdrant
  server; its API key is read from ``$QDRANT_API_KEY``, never from the string, so it
  stays out of shell history and process lists;
* ``qdrant+local:FOLDER/COLLECTION``: qdrant-client's embedded on-disk mode (no server;
  one process at a time).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from rir.engines.local.backends import IndexBackend
from rir.errors import ConfigurationError
from rir.urls import host_in_url

__all__ = ["IndexTarget", "parse_target"]

_SYNTAX = ("a file path, qdrant://HOST:PORT/COLLECTION (qdrants:// for HTTPS) or "
           "qdrant+local:FOLDER/COLLECTION")


@dataclass(frozen=True)
class IndexTarget:
    kind: str  # "file", "qdrant" or "qdrant-local"
    path: Path | None = None  # the file, or the local Qdrant folder
    url: str | None = None
    collection: str | None = None

    def __str__(self) -> str:
        if self.kind == "file":
            return str(self.path)
        if self.kind == "qdrant-local":
            return f"qdrant+local:{self.path}/{self.collection}"
        return f"{self.url}/{self.collection}"

    def exists(self) -> bool:
        """Whether an index is already there (for a server: the collection exists)."""
        if self.kind == "file":
            return self.path is not None and self.path.exists()
        from qdrant_client import QdrantClient

        from rir.engines.local.qdrant.collection import describe, qdrant_errors

        if self.kind == "qdrant-local":
            if self.path is None or not self.path.exists():
                return False
            client = QdrantClient(path=str(self.path))
        else:
            client = QdrantClient(url=self.url, api_key=os.environ.get("QDRANT_API_KEY"),
                                  check_compatibility=False)
        try:
            with qdrant_errors(describe(self.url or str(self.path), str(self.collection))):
                return bool(client.collection_exists(str(self.collection)))
        finally:
            client.close()

    def open(self, *, create: bool, shard_number: int | None = None,
             replication_factor: int | None = None) -> IndexBackend:
        """The backend (shards and replicas: for a collection this creates)."""
        if self.kind == "file":
            from rir.engines.local.store import IndexStore

            return IndexStore(self.path, create=create)
        from rir.engines.local.qdrant.backend import QdrantBackend

        options = {"collection": str(self.collection), "create": create,
                   "shard_number": shard_number, "replication_factor": replication_factor}
        if self.kind == "qdrant-local":
            return QdrantBackend(path=str(self.path), **options)  # type: ignore[arg-type]
        return QdrantBackend(self.url, api_key=os.environ.get("QDRANT_API_KEY"),
                             **options)  # type: ignore[arg-type]

    def remove(self) -> None:
        """Delete what a failed copy made here (the caller only calls it on its own target)."""
        if self.kind == "file":
            for leftover in (self.path, *(Path(f"{self.path}{s}") for s in ("-wal", "-shm"))):
                if leftover is not None:
                    leftover.unlink(missing_ok=True)
            return
        from rir.engines.local.qdrant.backend import QdrantBackend

        backend = self.open(create=False)
        try:
            if isinstance(backend, QdrantBackend):
                backend.drop_collection()
        finally:
            backend.close()


def parse_target(text: str) -> IndexTarget:
    text = text.strip()
    if not text:
        raise ConfigurationError(f"An empty index location; pass {_SYNTAX}.")
    if text.startswith("qdrant+local:"):
        folder, _, collection = text[len("qdrant+local:"):].rstrip("/").rpartition("/")
        if not folder or not collection:
            raise ConfigurationError(f"'{text}' names no collection; write "
                                     "qdrant+local:FOLDER/COLLECTION.")
        return IndexTarget("qdrant-local", path=Path(folder).expanduser(), collection=collection)
    if text.startswith(("qdrant://", "qdrants://")):
        try:
            parts = urlsplit(text)
        except ValueError as exc:  # a broken [IPv6] literal
            raise ConfigurationError(f"'{text}' is not a valid address ({exc}); pass "
                                     f"{_SYNTAX}.") from None
        collection = parts.path.strip("/")
        if parts.username or parts.password or parts.query:
            raise ConfigurationError(
                f"Put no credentials or options in '{parts.scheme}://"
                f"{host_in_url(parts.hostname or '')}...'; the "
                "API key is read from $QDRANT_API_KEY.")
        if not parts.hostname or not collection or "/" in collection:
            raise ConfigurationError(f"'{text}' is not qdrant://HOST:PORT/COLLECTION; pass "
                                     f"{_SYNTAX}.")
        scheme = "https" if parts.scheme == "qdrants" else "http"
        try:
            port = parts.port or 6333
        except ValueError:
            raise ConfigurationError(f"'{text}' has an invalid port; pass {_SYNTAX}.") from None
        return IndexTarget("qdrant", url=f"{scheme}://{host_in_url(parts.hostname)}:{port}",
                           collection=collection)
    if "://" in text:
        raise ConfigurationError(f"Unknown index location '{text}'; pass {_SYNTAX}.")
    return IndexTarget("file", path=Path(text).expanduser())
