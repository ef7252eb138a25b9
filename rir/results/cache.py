"""A persistent result cache in one SQLite file.

Entries are keyed by engine name, the engine options that change results and
the query image's sha256 (never by secrets), and expire after a TTL. The file
is shared safely by threads and processes (WAL journal, busy timeout, one
connection per thread and process). Every entry carries a checksum: a damaged
entry is dropped, and a damaged or unreadable file is moved aside and rebuilt
with a warning. The cache never fails a search: on any storage problem it
warns and behaves as a miss.

Location: the ``path`` argument, else ``$RIR_CACHE_DIR/results.sqlite3``, else
the user cache dir (``~/.cache/reverse-image-rag`` on Linux).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import sqlite3
import threading
import time
import warnings
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from platformdirs import user_cache_dir
from pydantic import ValidationError

from rir.errors import check_number
from rir.results.models import SearchResult

__all__ = ["DEFAULT_TTL_S", "CacheWarning", "ResultCache", "default_cache_path"]

logger = logging.getLogger(__name__)

DEFAULT_TTL_S = 7 * 24 * 3600.0
_SCHEMA_VERSION = "1"
_LOCKED_RETRIES = 5
_LOCKED_PAUSE_S = 0.05
_CORRUPTION_MARKERS = ("not a database", "malformed", "disk image", "file is encrypted",
                       "unsupported file format", "database corrupt")


class CacheWarning(UserWarning):
    """The cache had to drop an entry, move a damaged file aside, or switch itself off."""


def default_cache_path() -> Path:
    directory = os.environ.get("RIR_CACHE_DIR") or user_cache_dir("reverse-image-rag")
    return Path(directory).expanduser() / "results.sqlite3"


def _all_that_exists(result: SearchResult, stored_k: int) -> bool:
    """Whether a cached result shorter than a new ``k`` is everything the engine has.

    An engine that records ``metadata["complete"]`` (Google Lens) is believed: a
    partial read (False) is served only up to its length, never as the whole
    answer. For other engines a result shorter than the ``k`` it was searched with
    means the engine ran out of matches.
    """
    complete = result.metadata.get("complete")
    if complete is not None:
        return bool(complete) and len(result.hits) < stored_k
    return len(result.hits) < stored_k


class ResultCache:
    """Persistent cache of :class:`SearchResult` objects."""

    def __init__(self, path: str | os.PathLike[str] | None = None, *,
                 ttl_s: float = DEFAULT_TTL_S) -> None:
        check_number("ttl_s", ttl_s, above=0)
        self.path = Path(path).expanduser() if path is not None else default_cache_path()
        self.ttl_s = float(ttl_s)
        self._local = threading.local()
        self._lock = threading.Lock()
        self._disabled_reason: str | None = None
        self._generation = 0  # bumped when the file is replaced; stale connections reopen

    # -- keys ---------------------------------------------------------------------------------

    @staticmethod
    def make_key(engine: str, options: Mapping[str, Any], image_sha256: str) -> str:
        canonical = json.dumps(
            {"v": 1, "engine": engine, "options": dict(options), "image": image_sha256},
            sort_keys=True, default=str, separators=(",", ":"),
        )
        return hashlib.sha256(canonical.encode()).hexdigest()

    # -- public API ---------------------------------------------------------------------------

    def get(self, key: str, *, k: int) -> SearchResult | None:
        """The cached result for ``key`` holding at least ``k`` hits (if the engine had them)."""
        row = self._run(self._select, key)
        if row is None:
            return None
        stored_k, checksum, payload = row
        result = self._decode(key, checksum, payload)
        if result is None:
            return None
        if len(result.hits) < k and not _all_that_exists(result, stored_k):
            return None  # fewer hits than asked for, and more may exist
        return result.model_copy(update={"hits": result.hits[:k], "from_cache": True})

    def put(self, key: str, result: SearchResult, *, k: int) -> None:
        """Store ``result`` (searched with ``k``); an empty result that its engine marked
        incomplete (``metadata["complete"] is False``: a degraded or partial page) is
        not stored, so it is searched again instead of frozen as "no results"."""
        if not result.hits and result.metadata.get("complete") is False:
            logger.debug("not caching an empty, incomplete %s result", result.engine)
            return
        payload = zlib.compress(result.model_copy(update={"from_cache": False})
                                .model_dump_json().encode(), 6)
        checksum = hashlib.sha256(payload).hexdigest()
        now = time.time()
        self._run(self._upsert, key, result.engine, k, now, now + self.ttl_s, checksum, payload)

    async def aget(self, key: str, *, k: int) -> SearchResult | None:
        return await asyncio.to_thread(self.get, key, k=k)

    async def aput(self, key: str, result: SearchResult, *, k: int) -> None:
        await asyncio.to_thread(self.put, key, result, k=k)

    def clear(self) -> int:
        """Delete every entry; returns how many there were."""
        return self._run(lambda c: c.execute("DELETE FROM results").rowcount) or 0

    def purge_expired(self) -> int:
        return self._run(
            lambda c: c.execute(
                "DELETE FROM results WHERE expires_at <= ?", (time.time(),)
            ).rowcount
        ) or 0

    def stats(self) -> dict[str, Any]:
        def query(conn: sqlite3.Connection) -> tuple[int, int, int]:
            now = time.time()
            total, live, size = conn.execute(
                "SELECT COUNT(*), COALESCE(SUM(expires_at > ?), 0), "
                "COALESCE(SUM(LENGTH(payload)), 0) FROM results", (now,)
            ).fetchone()
            return int(total), int(live), int(size)

        counts = self._run(query)
        total, live, size = counts if counts else (0, 0, 0)
        return {"path": str(self.path), "entries": total, "live": live, "payload_bytes": size,
                "ttl_s": self.ttl_s, "disabled": self._disabled_reason}

    def close(self) -> None:
        connection = getattr(self._local, "conn", None)
        if connection is not None:
            connection.close()
            self._local.conn = None

    def __repr__(self) -> str:
        return f"ResultCache(path={str(self.path)!r}, ttl_s={self.ttl_s:g})"

    # -- storage ------------------------------------------------------------------------------

    @staticmethod
    def _select(conn: sqlite3.Connection, key: str) -> tuple[int, str, bytes] | None:
        row = conn.execute(
            "SELECT k, checksum, payload, expires_at FROM results WHERE key = ?", (key,)
        ).fetchone()
        if row is None:
            return None
        if row[3] <= time.time():
            conn.execute("DELETE FROM results WHERE key = ? AND expires_at <= ?",
                         (key, time.time()))
            return None
        return int(row[0]), str(row[1]), bytes(row[2])

    @staticmethod
    def _upsert(conn: sqlite3.Connection, *values: Any) -> None:
        conn.execute(
            "INSERT OR REPLACE INTO results (key, engine, k, created_at, expires_at, checksum, "
            "payload) VALUES (?, ?, ?, ?, ?, ?, ?)", values,
        )

    def _decode(self, key: str, checksum: str, payload: bytes) -> SearchResult | None:
        try:
            if hashlib.sha256(payload).hexdigest() != checksum:
                raise ValueError("checksum mismatch")
            return SearchResult.model_validate_json(zlib.decompress(payload))
        except (ValueError, zlib.error, ValidationError) as exc:
            self._warn(f"dropping a damaged cache entry in {self.path} ({type(exc).__name__})")
            self._run(lambda c: c.execute("DELETE FROM results WHERE key = ?", (key,)))
            return None

    def _connect(self) -> sqlite3.Connection:
        cached = getattr(self._local, "conn", None)
        marker = (os.getpid(), self._generation)
        if cached is not None and getattr(self._local, "marker", None) == marker:
            return cached
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, timeout=30.0, isolation_level=None,
                               check_same_thread=False)
        try:
            conn.execute("PRAGMA busy_timeout = 30000")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute(
                "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)"
            )
            conn.execute(
                "CREATE TABLE IF NOT EXISTS results (key TEXT PRIMARY KEY, engine TEXT NOT NULL, "
                "k INTEGER NOT NULL, created_at REAL NOT NULL, expires_at REAL NOT NULL, "
                "checksum TEXT NOT NULL, payload BLOB NOT NULL)"
            )
            conn.execute("CREATE INDEX IF NOT EXISTS results_expires ON results (expires_at)")
            version = conn.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
            if version is None:
                conn.execute("INSERT OR IGNORE INTO meta VALUES ('schema', ?)", (_SCHEMA_VERSION,))
            elif version[0] != _SCHEMA_VERSION:
                conn.execute("DELETE FROM results")
                conn.execute("UPDATE meta SET value = ? WHERE key = 'schema'", (_SCHEMA_VERSION,))
        except sqlite3.Error:
            conn.close()
            raise
        self._local.conn, self._local.marker = conn, marker
        return conn

    def _run(self, operation: Any, *args: Any) -> Any:
        """Run ``operation(conn, *args)``; repair or disable the cache on storage errors."""
        if self._disabled_reason:
            return None
        quarantined = False
        locked_retries = _LOCKED_RETRIES
        while True:
            started = time.monotonic()
            try:
                return operation(self._connect(), *args)
            except sqlite3.DatabaseError as exc:
                message = str(exc).lower()
                unreadable = "unable to open" in message and self.path.exists()
                if not quarantined and (unreadable or any(m in message
                                                          for m in _CORRUPTION_MARKERS)):
                    self._quarantine(exc)
                    quarantined = True
                    continue
                if isinstance(exc, sqlite3.OperationalError) and (
                    "locked" in message or "busy" in message
                ):
                    # SQLite answers "locked" at once, without the busy timeout, when
                    # waiting could deadlock (e.g. connections setting up a new file
                    # together): those clear within milliseconds, so try again a few
                    # times. A lock that outlasted the busy timeout is a miss.
                    if locked_retries and time.monotonic() - started < _LOCKED_PAUSE_S * 10:
                        locked_retries -= 1
                        time.sleep(_LOCKED_PAUSE_S)
                        continue
                    logger.warning("result cache %s is busy; treating as a miss", self.path)
                    return None
                self._disable(f"{type(exc).__name__}: {exc}")
                return None
            except OSError as exc:
                self._disable(f"{type(exc).__name__}: {exc.strerror or exc}")
                return None

    def _quarantine(self, exc: Exception) -> None:
        with self._lock:
            self.close()
            self._generation += 1
            aside = self.path.with_name(f"{self.path.name}.corrupt-{int(time.time())}")
            try:
                if self.path.exists():
                    os.replace(self.path, aside)
                for suffix in ("-wal", "-shm"):
                    extra = self.path.with_name(self.path.name + suffix)
                    if extra.exists():
                        extra.unlink()
            except OSError as move_error:
                self._disable(f"cannot move the damaged file aside: {move_error}")
                return
        self._warn(f"the result cache {self.path} was damaged ({exc}); moved it to {aside.name} "
                   "and started a new one")

    def _disable(self, reason: str) -> None:
        if self._disabled_reason is None:
            self._disabled_reason = reason
            self._warn(f"the result cache {self.path} is unusable ({reason}); caching is off "
                       "for this session. Set RIR_CACHE_DIR to a writable directory.")

    @staticmethod
    def _warn(message: str) -> None:
        logger.warning(message)
        warnings.warn(message, CacheWarning, stacklevel=4)
